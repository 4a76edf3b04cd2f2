"""Shared fixtures: the locally installed ImageNet MobileNetV2 weights (`make weights` installs them)."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch

from gtalign.models.install_weights import MOBILENET_V2_FILE
from gtalign.models.weights import weights_dir


@pytest.fixture
def mobilenet_weights() -> Path:
    path = weights_dir() / MOBILENET_V2_FILE
    if not path.is_file():
        pytest.skip(f"{path} not installed (run `make weights`)")
    return path


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """No internet and empty caches: any socket connection fails, torch hub's cache is an empty folder."""

    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    torch.hub.set_dir(str(tmp_path / "torch_home" / "hub"))
    yield
    torch.hub.set_dir(str(Path(torch.hub._get_torch_home()) / "hub"))
