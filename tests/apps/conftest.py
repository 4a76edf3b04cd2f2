"""Fixtures of the application tests: a small synthetic dataset and a tiny real checkpoint."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests._helpers.apps import needs_weights


@pytest.fixture(scope="session")
def synth_manifest(tmp_path_factory) -> Path:
    """A small synthetic action dataset (2 actions x 2 videos, 24-32 frames of 64 px) with canonical times."""
    from gtalign.data.synth import generate_dataset

    return generate_dataset(tmp_path_factory.mktemp("synth"), num_classes=2, videos_per_class=2, min_frames=24,
                            max_frames=32, image_size=64, seed=3, workers=1, progress=False)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, synth_manifest) -> Path:
    """A real (if barely trained) checkpoint: 3 GTA steps of a tiny head on frozen ImageNet features, 64 px."""
    needs_weights()
    from gtalign.apps.fit import FitSettings, fit_embedder
    from gtalign.data import open_source

    source = open_source(synth_manifest)
    settings = FitSettings(steps=3, image_size=64, num_steps=8, head_channels=8, embedding_dim=16, device="cpu")
    return fit_embedder(source, tmp_path_factory.mktemp("fit"), settings, progress=False)
