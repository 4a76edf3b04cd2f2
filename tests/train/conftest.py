"""Tiny synthetic data and configs for the training tests (32 px frames, a random MobileNetV2 trunk, 16-D)."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gtalign.train.config import Config, load_config


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory) -> Path:
    """2 classes x 4 videos (2 train + 2 val each) of 16-24 frames at 32 px."""
    from gtalign.data.synth.generate import generate_dataset

    out = tmp_path_factory.mktemp("synth")
    generate_dataset(out, num_classes=2, videos_per_class=4, min_frames=16, max_frames=24, image_size=32, seed=0,
                     workers=1, val_fraction=0.5, progress=False)
    return out


TINY = ["data.image_size=32", "data.num_steps=8", "data.num_context=1", "data.frame_stride=3", "data.batch_size=2",
        "data.workers=0", "model.trunk=mobilenet_v2", "model.weights=null", "model.regime=frozen",
        "model.conv_channels=16", "model.fc_channels=16", "model.embedding_dim=16", "train.max_steps=2",
        "train.val_every=1000", "train.log_every=1", "train.checkpoint_every=1000"]


def _tiny_config(root: Path, log_dir: Path, *overrides: str) -> Config:
    return load_config(None, TINY + [f"data.root={root}", f"train.log_dir={log_dir}", *overrides])


def _losses_logged(run_dir: Path, tag: str = "train/loss") -> dict[int, float]:
    with open(Path(run_dir) / "log.csv", encoding="utf-8") as f:
        return {int(r["step"]): float(r["value"]) for r in csv.DictReader(f) if r["tag"] == tag}


@pytest.fixture(scope="session")
def tiny_config():
    """`tiny_config(root, log_dir, *overrides) -> Config`: the tiny setting above."""
    return _tiny_config


@pytest.fixture
def losses_logged():
    """`losses_logged(run_dir, tag="train/loss") -> {step: value}` from the run's log.csv."""
    return _losses_logged
