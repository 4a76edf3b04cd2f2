"""The training loop on tiny synthetic data: every loss, exact resume, NaN stop, Ctrl-C, the feature cache."""
from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch

from gtalign import losses
from gtalign.train import checkpoint as ckpt
from gtalign.train.trainer import Trainer, TrainingDiverged


@pytest.mark.parametrize("name", losses.available())
def test_one_step_of_every_registered_loss(name, tiny_config, losses_logged, synth_root, tmp_path):
    trainer = Trainer(tiny_config(synth_root, tmp_path, f"loss.name={name}", "train.max_steps=1"), progress=False)
    before = {k: v.clone() for k, v in trainer.module.embedder.head.state_dict().items()}
    last = trainer.fit()
    loss = losses_logged(tmp_path)[1]
    assert np.isfinite(loss)
    changed = [k for k, v in trainer.module.embedder.head.state_dict().items() if not torch.equal(v, before[k])]
    assert any(k.endswith("weight") for k in changed)  # the optimizer moved the embedder
    assert last == tmp_path / "ckpt_1.pt" and (tmp_path / "last.pt").is_file()
    assert (tmp_path / "config.yaml").is_file() and list(tmp_path.glob("events.out.tfevents.*"))


def test_resume_gives_the_losses_of_an_uninterrupted_run(tiny_config, losses_logged, synth_root, tmp_path):
    """Augmentation, dropout, a cosine schedule (recomputed for the longer run) and epoch changes (4 videos, batch 2)
    all happen across the interruption."""
    common = ["train.max_steps=5", "model.regime=train_all", "augment.enabled=true", "train.val_every=2",
              "train.val_batches=1", "optim.schedule=cosine", "optim.warmup_steps=2"]
    Trainer(tiny_config(synth_root, tmp_path / "full", *common), progress=False).fit()
    Trainer(tiny_config(synth_root, tmp_path / "cut", *common, "train.max_steps=3"), progress=False).fit()
    resumed = Trainer(tiny_config(synth_root, tmp_path / "cut", *common), resume=True, progress=False)
    assert resumed.step == 3 and resumed.sampler.to_dict() == {"epoch": 1, "position": 1}
    resumed.fit()
    full, cut = losses_logged(tmp_path / "full"), losses_logged(tmp_path / "cut")
    assert sorted(cut) == [1, 2, 3, 4, 5]
    assert cut == full  # bit-identical
    val_full, val_cut = losses_logged(tmp_path / "full", "val/loss"), losses_logged(tmp_path / "cut", "val/loss")
    assert sorted(val_full) == [2, 4, 5] and val_full == {step: val_cut[step] for step in val_full}
    a = ckpt.load_checkpoint(tmp_path / "full" / "last.pt")["model"]
    b = ckpt.load_checkpoint(tmp_path / "cut" / "last.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def _poisoned(trainer: Trainer, at_call: int, action) -> None:
    """Make the loss call `action()` on its `at_call`-th call (1-based)."""
    original, calls = trainer.module.loss.forward, []

    def forward(*args, **kwargs):
        calls.append(1)
        value = original(*args, **kwargs)
        return action(value) if len(calls) == at_call else value

    trainer.module.loss.forward = forward


def test_nan_loss_stops_and_names_the_step_and_checkpoint(tiny_config, losses_logged, synth_root, tmp_path):
    trainer = Trainer(tiny_config(synth_root, tmp_path, "train.max_steps=4", "train.checkpoint_every=1"),
                      progress=False)
    _poisoned(trainer, 3, lambda value: value * float("nan"))
    with pytest.raises(TrainingDiverged, match=rf"nan at step 3; .*resume from {tmp_path / 'last.pt'}"):
        trainer.fit()
    assert ckpt.load_checkpoint(tmp_path / "last.pt")["step"] == 2


def test_ctrl_c_finishes_the_step_saves_and_resumes(tiny_config, losses_logged, synth_root, tmp_path, capsys):
    trainer = Trainer(tiny_config(synth_root, tmp_path, "train.max_steps=4"), progress=False)
    before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN where the suite runs as a background job

    def interrupt(value):
        os.kill(os.getpid(), signal.SIGINT)
        return value

    _poisoned(trainer, 2, interrupt)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert "stopped at step 2" in capsys.readouterr().out
    assert ckpt.load_checkpoint(tmp_path / "last.pt")["step"] == 2
    assert signal.getsignal(signal.SIGINT) is before  # the handler fit() installed is gone again
    resumed = Trainer(tiny_config(synth_root, tmp_path, "train.max_steps=4"), resume=True, progress=False)
    assert resumed.fit() == tmp_path / "ckpt_4.pt"
    assert sorted(losses_logged(tmp_path)) == [1, 2, 3, 4]


def test_frozen_trunk_features_are_cached_and_used(tiny_config, losses_logged, synth_root, tmp_path):
    cache = tmp_path / "cache"
    trainer = Trainer(tiny_config(synth_root, tmp_path / "run", "model.cache_features=true",
                                  "augment.enabled=false", f"model.cache_dir={cache}"), progress=False)
    files = sorted(cache.rglob("*.npy"))
    assert len(files) == 8  # train and val videos
    source, dataset = trainer.data.train.cache.source, trainer.data.train
    feats = np.load(dataset.cache.path(0))
    assert feats.dtype == np.float32 and feats.shape == (source.entries[0].num_frames, 96, 2, 2)
    from gtalign.data.sampling import load_frames

    frames = load_frames(source, 0, np.arange(3), 32, "imagenet")
    with torch.no_grad():
        expected = trainer.module.embedder.trunk_features(frames).numpy()
    # the trunk's own float32 maps (float16 would be off by far more: these maps are ~1e-6)
    np.testing.assert_allclose(feats[:3], expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    clip = dataset[0]
    assert clip["features"].shape == (8, 2, 96, 2, 2)
    trainer.fit()
    mtimes = [f.stat().st_mtime_ns for f in files]
    Trainer(tiny_config(synth_root, tmp_path / "run2", "model.cache_features=true", "augment.enabled=false",
                        f"model.cache_dir={cache}"), progress=False)
    assert [f.stat().st_mtime_ns for f in files] == mtimes  # reused, not recomputed


def test_feature_cache_is_not_shared_by_datasets_with_the_same_name_and_ids(synth_root, tmp_path):
    """A second synthetic set made with other settings has the same manifest name and video ids; its cached
    features must not be the first set's."""
    import shutil

    from gtalign.data import open_source
    from gtalign.models import Embedder
    from gtalign.train.features import FeatureCache

    other = tmp_path / "other"
    shutil.copytree(synth_root, other)
    first, second = open_source(synth_root), open_source(other)
    assert first.manifest.name == second.manifest.name and first.entries[0].id == second.entries[0].id
    embedder = Embedder("mobilenet_v2", None, "frozen", 16, 16, fc_channels=16)
    cache_a = FeatureCache(tmp_path / "cache", first, embedder, 32)
    cache_b = FeatureCache(tmp_path / "cache", second, embedder, 32)
    assert cache_a.path(0) != cache_b.path(0)
    assert cache_a.path(0) == FeatureCache(tmp_path / "cache", open_source(synth_root), embedder, 32).path(0)


def test_resume_falls_back_to_the_newest_readable_checkpoint_and_warns_on_a_changed_config(
        tiny_config, synth_root, tmp_path, capsys):
    Trainer(tiny_config(synth_root, tmp_path, "train.max_steps=3", "train.checkpoint_every=1"), progress=False).fit()
    last = tmp_path / "last.pt"
    last.write_bytes(last.read_bytes()[:200])  # a kill -9 or a full disk in the middle of a copy
    (tmp_path / "ckpt_3.pt").write_bytes(b"")
    resumed = Trainer(tiny_config(synth_root, tmp_path, "train.max_steps=4", "train.checkpoint_every=1",
                                  "optim.lr=0.5"), resume=True, progress=False)
    err = capsys.readouterr().err
    assert resumed.step == 2
    assert "resuming from" in err and "ckpt_2.pt" in err and str(last) in err
    assert "the config differs from the checkpoint's: optim.lr" in err and "max_steps" not in err
    resumed.fit()
    assert ckpt.load_checkpoint(tmp_path / "last.pt")["step"] == 4


def test_resume_with_no_readable_checkpoint_names_every_file(tiny_config, synth_root, tmp_path):
    from gtalign.errors import GtalignError

    (tmp_path / "last.pt").write_bytes(b"junk")
    with pytest.raises(GtalignError, match=r"no readable checkpoint in .*last\.pt"):
        Trainer(tiny_config(synth_root, tmp_path, "train.max_steps=2"), resume=True, progress=False)


def test_a_run_folder_that_is_a_file_is_refused_before_any_work(tiny_config, synth_root, tmp_path):
    from gtalign.errors import GtalignError

    (tmp_path / "run").write_text("x")
    with pytest.raises(GtalignError, match=r"train.log_dir .*run is a file"):
        Trainer(tiny_config(synth_root, tmp_path / "run"), progress=False)
    with pytest.raises(GtalignError, match=r"cannot be made: .*run is a file"):
        Trainer(tiny_config(synth_root, tmp_path / "run" / "sub"), progress=False)


def test_clips_too_short_for_the_loss_name_the_setting(tiny_config, synth_root, tmp_path):
    from gtalign.errors import GtalignError

    with pytest.raises(GtalignError, match=r"data.num_steps=1 frames per clip is fewer than the 2 that loss 'gta'"):
        Trainer(tiny_config(synth_root, tmp_path, "data.num_steps=1"), progress=False)


def test_steps_after_a_validation_train_again(tiny_config, synth_root, tmp_path):
    """train() is called once, and again after each validation (not on every step): every step runs in training
    mode, every validation batch in eval mode, and a frozen trunk stays in eval mode throughout."""
    trainer = Trainer(tiny_config(synth_root, tmp_path, "train.max_steps=4", "train.val_every=2",
                                  "train.val_batches=1", "model.regime=frozen"), progress=False)
    modes: list[tuple[bool, bool]] = []
    trainer.module.register_forward_pre_hook(
        lambda module, args: modes.append((module.training, module.embedder.trunk.training)))
    trainer.fit()
    assert [m[0] for m in modes] == [True, True, False, True, True, False]
    assert not any(m[1] for m in modes)
