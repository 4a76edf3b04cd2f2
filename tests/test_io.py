"""Atomic writes: complete files only, previous content kept on failure, ordinary permissions."""
import os
import stat

import pytest

from gtalign.errors import GtalignError
from gtalign.io import atomic_path, read_json, write_json


def test_write_json_roundtrip_and_permissions(tmp_path):
    p = tmp_path / "sub" / "x.json"
    write_json(p, {"a": [1, 2]})
    assert read_json(p) == {"a": [1, 2]}
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask
    assert [f.name for f in p.parent.iterdir()] == ["x.json"]  # no temporary left behind


def test_failed_write_keeps_previous_file(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(p) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert p.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["x.txt"]


def test_read_json_errors_name_the_file(tmp_path):
    with pytest.raises(GtalignError, match="missing.json"):
        read_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(GtalignError, match="bad.json"):
        read_json(bad)
