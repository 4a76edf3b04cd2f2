"""The `gtalign` entry point: every command is there, building the parser imports no heavy library, command
modules that are not there are skipped, and the packages whose names are imported on first use still give them."""
from __future__ import annotations

import subprocess
import sys

import pytest

from gtalign import cli

HEAVY = ("torch", "torchvision", "scipy", "numba", "numpy", "sklearn", "PIL", "matplotlib", "av", "cv2")
COMMANDS = {"data", "train", "embed", "evaluate", "report", "align", "sync", "audit", "cam", "retrieve", "progress",
            "transfer", "demo"}


def _fresh(code: str) -> str:
    """stdout of `code` run by a new interpreter (nothing imported yet)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _commands(parser) -> set[str]:
    return set(parser._subparsers._group_actions[0].choices)


def test_building_the_parser_imports_no_heavy_library():
    out = _fresh("import sys; from gtalign.cli import build_parser; build_parser(); "
                 f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    assert out == "[]"


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    assert COMMANDS <= set(capsys.readouterr().out.replace(",", " ").split())
    assert _commands(cli.build_parser()) == COMMANDS


def test_command_modules_that_are_not_there_are_skipped(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES",
                        (*cli.COMMAND_MODULES, "gtalign.not_built_yet.commands", "gtalign.cli.not_built_yet"))
    assert _commands(cli.build_parser()) == COMMANDS


def test_choices_from_slow_modules_are_checked_when_parsing(capsys):
    args = cli.build_parser().parse_args(["evaluate", "--embeddings", "e", "--protocol", "svm", "kendall",
                                          "--distance", "cosine"])
    assert args.protocol == ["svm", "kendall"] and args.distance == "cosine"
    with pytest.raises(SystemExit) as e:
        cli.main(["evaluate", "--embeddings", "e", "--protocol", "bogus"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in err and "'kendall'" in err
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--help"])
    assert "alignment" in capsys.readouterr().out  # the help names the protocols


@pytest.mark.parametrize("package", ["gtalign.data", "gtalign.evaluate", "gtalign.apps.demo"])
def test_packages_give_every_name(package):
    import importlib

    module = importlib.import_module(package)
    assert module.__all__ and set(module.__all__) <= set(dir(module))
    for name in module.__all__:
        assert getattr(module, name) is not None
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(module, "no_such_name")  # noqa: B009 - the attribute access is what is tested


@pytest.mark.parametrize("first", ["gtalign.data.source", "gtalign.data.finegym", "gtalign.data.tfrecord"])
def test_every_reader_is_registered_and_the_folder_reader_is_detected_last(first):
    """Whatever data module is imported first, `gtalign.data.open_source` knows every reader, folder last."""
    out = _fresh(f"import {first}; import gtalign.data as d; d.open_source; from gtalign.data import source; "
                 "print(d.available_sources(), source._DETECTORS[-1][0])")
    assert out == "['finegym', 'folder', 'manifest', 'pennaction', 'tfrecord'] folder"


def test_config_overrides_may_follow_options():
    parser_args = ["train", "--config", "c.yaml", "data.root=a", "--quiet", "train.max_steps=3", "--resume"]
    captured = {}
    original = cli.build_parser

    def build():
        parser = original()
        parser._subparsers._group_actions[0].choices["train"].set_defaults(
            func=lambda args: captured.setdefault("args", args) and 0)
        return parser

    import unittest.mock

    with unittest.mock.patch.object(cli, "build_parser", build):
        assert cli.main(parser_args) == 0
    args = captured["args"]
    assert args.overrides == ["data.root=a", "train.max_steps=3"] and args.quiet and args.resume
    with pytest.raises(SystemExit):
        cli.main(["train", "--config", "c.yaml", "--quiet", "--bogus"])
