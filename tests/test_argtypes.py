"""Bad command-line values are refused when parsing, before any work, with the value in the message."""
from __future__ import annotations

import os

import pytest

from gtalign.cli import main


@pytest.mark.parametrize("argv, message", [
    (["align", "a.mp4", "b.mp4", "-o", "OUT", "--max-side", "0"], "argument --max-side: must be >= 16 pixels, got 0"),
    (["align", "a.mp4", "b.mp4", "-o", "OUT", "--gamma", "-1"], "argument --gamma: must be a finite number > 0"),
    (["align", "a.mp4", "b.mp4", "-o", "OUT", "--fit", "--fit-steps", "0"], "argument --fit-steps: must be >= 1"),
    (["cam", "a.mp4", "-o", "OUT", "--frames", "0"], "argument --frames: must be >= 1, got 0"),
    (["retrieve", "--query", "a.mp4:0", "--corpus", "c", "-k", "0"], "argument -k: must be >= 1, got 0"),
    (["sync", "a.mp4", "b.mp4", "-o", "OUT", "--max-side", "x"], "argument --max-side: expected a whole number"),
    (["audit", "d", "--tolerance", "nan"], "argument --tolerance: must be a finite number > 0"),
])
def test_bad_values_are_refused_by_the_parser(tmp_path, capsys, argv, message):
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"gtalign {argv[0]}: error: {message}" in err
    assert not (tmp_path / "out").exists()


def test_unusable_output_folders_are_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    cases = [(tmp_path / "file", "is a file"), (tmp_path / "file" / "sub", "cannot be made")]
    if not os.access(locked, os.W_OK):  # root can write anywhere
        cases.append((locked / "out", "is not writable"))
    try:
        for out, message in cases:
            for argv in (["align", "a.mp4", "b.mp4", "-o", str(out)], ["demo", "-o", str(out)],
                         ["sync", "a.mp4", "b.mp4", "-o", str(out)]):
                with pytest.raises(SystemExit) as e:
                    main(argv)
                assert e.value.code == 2 and message in capsys.readouterr().err, (argv, message)
    finally:
        locked.chmod(0o700)
