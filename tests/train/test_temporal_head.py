"""Training with the temporal transformer head (model.temporal_head=transformer), and loading it back."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gtalign.train.embed import load_embedder
from gtalign.train.trainer import Trainer


@pytest.mark.parametrize("loss", ["gta", "scl"])
def test_trains_through_the_config(loss, tiny_config, losses_logged, synth_root, tmp_path):
    trainer = Trainer(tiny_config(synth_root, tmp_path, f"loss.name={loss}", "model.temporal_head=transformer"),
                      progress=False)
    before = {k: v.clone() for k, v in trainer.module.embedder.temporal.state_dict().items()}
    trainer.fit()
    assert all(np.isfinite(v) for v in losses_logged(tmp_path).values())
    after = trainer.module.embedder.temporal.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    model, config = load_embedder(tmp_path / "last.pt")
    assert model.temporal is not None and config.model.temporal_head == "transformer"
