"""Pretrained trunk weights from local files; nothing here downloads unless the user asks for `weights="imagenet"`.

The local weights folder is `$GTALIGN_WEIGHTS` or `~/.cache/gtalign/weights`; `make weights` puts torchvision's
ImageNet MobileNetV2 file there (see `gtalign.models.install_weights`).
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from gtalign.errors import GtalignError
from gtalign.io import load_torch_file

IMAGENET = "imagenet"


def weights_dir() -> Path:
    """The local weights folder: `$GTALIGN_WEIGHTS` or `~/.cache/gtalign/weights`."""
    env = os.environ.get("GTALIGN_WEIGHTS")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "gtalign" / "weights"


def load_state_dict_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a torchvision-format state_dict (a `.pth` file of name -> tensor) without running pickled code."""
    path = Path(path).expanduser()
    state = load_torch_file(path, "weights file", "a torchvision state_dict (.pth)")
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise GtalignError(f"weights file {path} holds {type(state).__name__}; expected a dict of name -> tensor")
    return state


def imagenet_state_dict(trunk: str, torchvision_weights) -> dict[str, torch.Tensor]:
    """ImageNet weights of `trunk`: from the local weights folder if the torchvision file is there, else from
    torchvision (which downloads into its own cache; this needs internet, unless it is already cached).

    `torchvision_weights` is a torchvision `WeightsEnum` member (its URL names the file).
    """
    file_name = Path(torchvision_weights.url).name
    local = weights_dir() / file_name
    if local.is_file():
        return load_state_dict_file(local)
    try:
        return torchvision_weights.get_state_dict(progress=True)
    except Exception as e:  # URLError, OSError, HTTPError, ...: no network or no cache
        raise GtalignError(
            f"could not get ImageNet weights for trunk {trunk!r}: {local} does not exist and torchvision could not "
            f"fetch {torchvision_weights.url} ({type(e).__name__}: {e}). Without internet, put {file_name} in "
            f"{local.parent} (or set GTALIGN_WEIGHTS to its folder), or pass a local state_dict path as weights"
        ) from e
