"""`--quiet`: the application commands print no progress bar at all (and do print them without it)."""
import re

import pytest

from gtalign.cli import main
from gtalign.data import open_source
from tests._helpers.apps import needs_weights

pytestmark = pytest.mark.slow

BAR = re.compile(r"\d+%\|")  # what every tqdm bar with a total prints: " 50%|#####     | 1/2 [...]"


def run_stderr(capsys, *argv) -> str:
    capsys.readouterr()
    assert main([str(a) for a in argv]) == 0
    return capsys.readouterr().err


@pytest.fixture(scope="module")
def two_videos(synth_manifest):
    needs_weights()
    source = open_source(synth_manifest)
    return source.entries[0].path, source.entries[1].path


def test_align_quiet_prints_no_progress_bar(tmp_path, capsys, two_videos):
    args = ["align", *two_videos, "--device", "cpu"]
    assert BAR.search(run_stderr(capsys, *args, "-o", tmp_path / "loud"))  # the bars this test looks for
    err = run_stderr(capsys, *args, "-o", tmp_path / "quiet", "--quiet")
    assert not BAR.search(err) and "\r" not in err, err


def test_retrieve_quiet_opens_a_video_folder_without_a_bar(tmp_path, capsys, two_videos, synth_manifest):
    videos = synth_manifest.parent / "videos"  # a folder of frame folders: checked video by video when opened
    args = ["retrieve", "--query", f"{two_videos[0]}:3", "--corpus", videos, "--device", "cpu", "-o", tmp_path]
    loud = run_stderr(capsys, *args, "--index", tmp_path / "loud")
    assert "checking videos" in loud and BAR.search(loud)
    err = run_stderr(capsys, *args, "--index", tmp_path / "quiet", "--quiet")
    assert not BAR.search(err) and "\r" not in err, err


def test_open_source_progress_false_hides_the_scan_bar(capsys, synth_manifest):
    videos = synth_manifest.parent / "videos"
    capsys.readouterr()
    open_source(videos, workers=1)
    assert "checking videos" in capsys.readouterr().err
    quiet = open_source(videos, workers=1, progress=False)
    assert len(quiet) > 0 and capsys.readouterr().err == ""


def test_align_fit_quiet_prints_no_progress_bar(tmp_path, capsys, two_videos):
    err = run_stderr(capsys, "align", *two_videos, "--fit", "--fit-steps", 1, "--fit-image-size", 64, "--device",
                     "cpu", "-o", tmp_path, "--quiet")
    assert not BAR.search(err) and "\r" not in err, err
