"""The sync viewer page: its inline data, and in a real headless Chromium, that scrubbing the reference time puts
every camera at offset_s + rate * t and that playing keeps them there."""
import json
import re

import numpy as np
import pytest

from gtalign.errors import GtalignError
from gtalign.viz.sync_viewer import render_sync_viewer, write_sync_viewer
from gtalign.viz.video import write_browser_video

#: (fps, frames, offset_s, rate) per camera; camera 0 is the reference
CAMERAS = ((10.0, 40, 0.0, 1.0), (15.0, 60, 0.5, 1.0), (20.0, 70, -0.3, 1.02))


def coded_frames(count: int) -> np.ndarray:
    """Frame j is a solid colour whose red channel encodes j (3 levels apart, survives lossy coding)."""
    return np.stack([np.full((48, 64, 3), (3 * j + 10, 128, 200), np.uint8) for j in range(count)])


def _cameras(folder=None):
    cams = []
    for k, (fps, n, offset, rate) in enumerate(CAMERAS):
        src = f"cam{k}.mp4" if folder is None else write_browser_video(coded_frames(n), folder / f"cam{k}.mp4", fps)
        cams.append({"name": f"cam{k}.mp4", "src": src, "offset_s": offset, "rate": rate, "fps": fps,
                     "duration_s": n / fps, "status": "ok", "confidence": 0.9})
    return cams


def test_page_data_and_escaping():
    cams = _cameras()
    cams[1]["name"] = "__DATA__ </script> <b>.mp4"
    page = render_sync_viewer(cams, 0, title="<sync>")
    inline = re.search(r'<script type="application/json" id="sync">(.*?)</script>', page, re.S).group(1)
    data = json.loads(inline)
    assert data["cameras"][1]["name"] == "__DATA__ </script> <b>.mp4" and data["reference"] == 0
    assert "&lt;sync&gt;" in page and "http://" not in page and "https://" not in page
    with pytest.raises(GtalignError, match="reference must be a camera with a clock"):
        render_sync_viewer([c | {"offset_s": None} for c in cams], 0)


def test_scrubbing_puts_every_camera_on_its_clock_in_a_browser(tmp_path, chrome):
    from selenium.webdriver.support.ui import WebDriverWait

    write_sync_viewer(tmp_path / "viewer.html", _cameras(tmp_path), 0)
    chrome.get((tmp_path / "viewer.html").as_uri())
    wait = WebDriverWait(chrome, 20, poll_frequency=0.05)
    wait.until(lambda d: d.execute_script(
        "return window.gtalignSync && [...document.querySelectorAll('video')].every(v => v.readyState >= 2);"))
    lo, hi = chrome.execute_script("return window.gtalignSync.range;")
    # the reference times every camera covers: camera 2 starts at 0.3 / 1.02 s, camera 1 ends at 4.0 - 0.5 s
    assert abs(lo - 0.3 / 1.02) < 1e-6 and abs(hi - 3.5) < 1e-6
    read = ("return [...document.querySelectorAll('video')].map(v => { const c = document.createElement('canvas');"
            "c.width = 4; c.height = 4; const g = c.getContext('2d'); g.drawImage(v, 0, 0, 4, 4);"
            "return [v.currentTime, v.seeking, g.getImageData(2, 2, 1, 1).data[0]]; });")
    for t in np.linspace(lo + 0.05, hi - 0.05, 4):
        chrome.execute_script(f"window.gtalignSync.seek({t});")
        want = [offset + rate * t for _, _, offset, rate in CAMERAS]
        wait.until(lambda d, want=want: all(abs(s[0] - w) < 1e-3 and not s[1]
                                            for s, w in zip(d.execute_script(read), want)))
        for (fps, _, _, _), (_, _, red), w in zip(CAMERAS, chrome.execute_script(read), want):
            assert abs((red - 10) / 3 - w * fps) <= 1.0, (t, fps, red, w)  # the frame on screen is the clock's
