"""The viewer page: its inline data, and in a real headless Chromium, that seeking A moves B to the aligned time."""
import json
import re

import numpy as np
import pytest

from gtalign.errors import GtalignError
from gtalign.viz.video import write_browser_video
from gtalign.viz.viewer import render_viewer, viewer_data, write_viewer

FPS_A, FPS_B = 10.0, 15.0
N, M = 30, 45


def coded_frames(count: int) -> np.ndarray:
    """Frame j is a solid colour whose red channel encodes j (5 levels apart, survives lossy coding)."""
    return np.stack([np.full((64, 80, 3), (5 * j + 10, 128, 250 - 5 * j), np.uint8) for j in range(count)])


def warped_alignment():
    """A non-linear alignment: B (at 15 fps) runs slowly, then fast, then holds its last frame."""
    time_a = np.arange(N) / FPS_A
    frame_b = np.minimum(M - 1, np.round((np.arange(N) / (N - 1)) ** 1.5 * (M + 5)))
    return time_a, frame_b / FPS_B, np.linspace(0.2, 1.0, N)


def test_viewer_data_round_trips_through_the_page():
    ta, tb, cost = warped_alignment()
    data = viewer_data(ta, tb, cost, FPS_A, FPS_B, verdict="same </script> process")
    page = render_viewer("a.mp4", "b&c.mp4", data, title="<pair>")
    inline = re.search(r'<script type="application/json" id="alignment">(.*?)</script>', page, re.S).group(1)
    parsed = json.loads(inline)
    np.testing.assert_allclose(parsed["time_b"], tb, atol=1e-6)
    assert parsed["verdict"] == "same </script> process"
    assert 'src="b&amp;c.mp4"' in page and "&lt;pair&gt;" in page
    assert "http://" not in page and "https://" not in page  # self-contained: nothing fetched from the network


def test_user_strings_cannot_fill_template_placeholders():
    """A video named like a placeholder (``__DATA__.mp4``) is shown as it is; the JSON goes only where it belongs."""
    ta, tb, cost = warped_alignment()
    page = render_viewer("__DATA__.mp4", "b.mp4", viewer_data(ta, tb, cost, FPS_A, FPS_B), title="__DATA__",
                         names=("__DATA__", "__NAME_B__"))
    assert page.count('"time_a"') == 1
    assert "<title>__DATA__</title>" in page and 'src="__DATA__.mp4"' in page and "__NAME_B__" in page


def test_the_confidence_goes_to_the_page_when_given_and_must_be_a_probability():
    ta, tb, cost = warped_alignment()
    assert viewer_data(ta, tb, cost, FPS_A, FPS_B)["confidence"] is None
    conf = np.linspace(0.0, 1.0, len(ta))
    page = render_viewer("a.mp4", "b.mp4", viewer_data(ta, tb, cost, FPS_A, FPS_B, confidence=conf))
    inline = re.search(r'<script type="application/json" id="alignment">(.*?)</script>', page, re.S).group(1)
    np.testing.assert_allclose(json.loads(inline)["confidence"], conf, atol=1e-6)
    with pytest.raises(GtalignError, match="confidence must lie in"):
        viewer_data(ta, tb, cost, FPS_A, FPS_B, confidence=conf + 0.5)
    with pytest.raises(GtalignError, match="confidence must be .* of length"):
        viewer_data(ta, tb, cost, FPS_A, FPS_B, confidence=conf[:3])


def test_viewer_data_checks_lengths():
    with pytest.raises(GtalignError, match="time_b must be .* of length 3"):
        viewer_data([0, 1, 2], [0, 1], [0, 0, 0], 1, 1)
    with pytest.raises(GtalignError, match="strictly increasing"):
        viewer_data([0, 0, 1], [0, 1, 2], [0, 0, 0], 1, 1)


def open_viewer(folder, chrome):
    """Write coded videos and the viewer of `warped_alignment` into `folder`, open it, wait until both videos
    can play; returns (time_a, time_b, a WebDriverWait)."""
    from selenium.webdriver.support.ui import WebDriverWait

    ta, tb, cost = warped_alignment()
    video_a = write_browser_video(coded_frames(N), folder / "a.mp4", FPS_A)
    video_b = write_browser_video(coded_frames(M), folder / "b.mp4", FPS_B)
    confidence = np.linspace(0.2, 1.0, len(ta))  # a low stretch first: the page draws and shades it as it plays
    write_viewer(folder / "viewer.html", video_a, video_b,
                 viewer_data(ta, tb, cost, FPS_A, FPS_B, confidence=confidence))
    chrome.get((folder / "viewer.html").as_uri())
    wait = WebDriverWait(chrome, 20, poll_frequency=0.05)
    wait.until(lambda d: d.execute_script(
        "const a = document.getElementById('videoA'), b = document.getElementById('videoB');"
        "return window.gtalignViewer && a.readyState >= 2 && b.readyState >= 2;"))
    return ta, tb, wait


def test_seeking_a_moves_b_in_a_browser(tmp_path, chrome):
    ta, tb, wait = open_viewer(tmp_path, chrome)
    errors = chrome.execute_script("return [document.getElementById('videoA').error,"
                                   " document.getElementById('videoB').error];")
    assert errors == [None, None], f"Chromium could not play the videos: {errors}"
    read_b = ("const b = document.getElementById('videoB'), c = document.createElement('canvas');"
              "c.width = 8; c.height = 8; const g = c.getContext('2d'); g.drawImage(b, 0, 0, 8, 8);"
              "return [b.currentTime, b.seeking, g.getImageData(4, 4, 1, 1).data[0]];")
    for t in (0.0, 0.55, 1.23, 2.05, 2.9):
        chrome.execute_script(f"document.getElementById('videoA').currentTime = {t};")
        expected = float(np.interp(t, ta, tb))
        wait.until(lambda d, expected=expected: (lambda s: abs(s[0] - expected) < 1e-3 and not s[1])(
            d.execute_script(read_b)))
        current, _, red = chrome.execute_script(read_b)
        frame_shown = (red - 10) / 5
        # B shows the frame on screen at the aligned time (within a frame: seeks land on frame boundaries)
        assert abs(frame_shown - expected * FPS_B) <= 1.0, (t, expected, frame_shown)
        assert chrome.execute_script("return Number(document.getElementById('scrubber').value);") == int(
            np.floor(t * FPS_A + 1e-6))


def test_playing_a_keeps_b_in_sync(tmp_path, chrome):
    import time

    ta, tb, _ = open_viewer(tmp_path, chrome)
    chrome.execute_script("document.getElementById('videoA').play();")
    samples = []
    for _ in range(8):
        time.sleep(0.2)
        samples.append(chrome.execute_script(
            "const a = document.getElementById('videoA'), b = document.getElementById('videoB');"
            "return [a.currentTime, b.currentTime, a.paused, window.gtalignViewer.target(a.currentTime)];"))
    playing = [s for s in samples if not s[2] and 0.1 < s[0] < ta[-1]]
    assert len(playing) >= 4, f"A did not play: {samples}"
    for t_a, t_b, _, target in playing:
        assert abs(target - float(np.interp(t_a, ta, tb))) < 1e-6
        assert abs(t_b - target) < 3.0 / FPS_B, (t_a, t_b, target)  # B follows within a few frames while playing
