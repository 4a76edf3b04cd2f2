"""Two views of each video per batch (for SCL): independent draws, consecutive in the batch, checked config."""
from __future__ import annotations

import pytest
import torch

from gtalign.data.sampling import ClipSampler, ViewsDataset, collate_views, np_rng
from gtalign.errors import GtalignError
from gtalign.losses import create
from gtalign.train.data import TrainingData, views_per_video, with_views
from gtalign.train.trainer import Trainer


class _Clips:
    """A stand-in clip dataset: the steps the sampler draws for (seed, epoch, video, view)."""

    def __init__(self, lengths):
        self.lengths, self.epoch = lengths, 0
        self.sampler = ClipSampler(5, 0, 1)

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.lengths)

    def clip(self, i, view=0):
        steps = self.sampler.steps(self.lengths[i], np_rng(0, self.epoch, i, view))
        return {"frames": torch.zeros(5, 1, 3, 2, 2), "steps": torch.from_numpy(steps),
                "labels": torch.full((5,), -1), "length": torch.tensor(5), "video_index": torch.tensor(i)}


def test_views_are_independent_draws_of_one_video_next_to_each_other():
    views = ViewsDataset(_Clips([50, 60, 70]), 2)
    batch = collate_views([views[0], views[2]])
    assert batch["video_index"].tolist() == [0, 0, 2, 2]
    assert not torch.equal(batch["steps"][0], batch["steps"][1])
    # view 0 is the clip a one-view run draws, so runs without views are unchanged
    assert torch.equal(batch["steps"][0], views.clips.clip(0)["steps"])
    views.set_epoch(1)
    assert not torch.equal(collate_views([views[0]])["steps"][0], batch["steps"][0])


def test_the_number_of_views_follows_the_loss_unless_set(tiny_config, synth_root, tmp_path):
    config = tiny_config(synth_root, tmp_path)
    assert views_per_video(config, create("gta")) == 1
    assert views_per_video(config, create("scl")) == 2
    config.data.views_per_video = 3
    assert views_per_video(config, create("scl")) == 3
    config.data.views_per_video = 1
    with pytest.raises(GtalignError, match="data.views_per_video is 1; set it to 2"):
        views_per_video(config, create("scl"))
    data = TrainingData(_Clips([10]), None, None)
    assert with_views(data, 1) is data and isinstance(with_views(data, 2).train, ViewsDataset)


def test_scl_trains_on_two_views_of_each_video(tiny_config, losses_logged, synth_root, tmp_path):
    trainer = Trainer(tiny_config(synth_root, tmp_path, "loss.name=scl", "train.max_steps=2"), progress=False)
    batch = next(iter(torch.utils.data.DataLoader(trainer.data.train, batch_size=2,
                                                  collate_fn=trainer.data.collate)))
    assert batch["video_index"].tolist()[0::2] == batch["video_index"].tolist()[1::2]
    trainer.fit()
    assert all(v == v for v in losses_logged(tmp_path).values())
