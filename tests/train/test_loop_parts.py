"""Parts of the loop: RNG states, checkpoint files, the batch order, the TensorBoard/CSV logs, the schedule."""
from __future__ import annotations

import random
import struct

import numpy as np
import pytest
import torch

from gtalign.data.tfrecord import iter_records
from gtalign.errors import GtalignError
from gtalign.train import checkpoint as ckpt
from gtalign.train.batches import GlobalBatches
from gtalign.train.config import OptimConfig
from gtalign.train.distributed import ProcessInfo
from gtalign.train.optim import lr_factor
from gtalign.train.scalars import ScalarLog


def _draws() -> tuple:
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_rng_state_round_trip_through_a_checkpoint_file(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    _draws()
    ckpt.save_checkpoint(tmp_path, 7, {"rng": ckpt.rng_state()})
    expected = _draws()
    _draws()
    state = ckpt.load_checkpoint(tmp_path)  # the folder means its last.pt; loads with weights_only=True
    ckpt.set_rng_state(state["rng"])
    assert state["step"] == 7 and _draws() == expected


def test_checkpoints_keep_the_newest_and_last_is_a_copy(tmp_path):
    for step in (1, 2, 3, 4):
        path = ckpt.save_checkpoint(tmp_path, step, {"value": torch.tensor(step)}, keep=2)
    assert path == tmp_path / "ckpt_4.pt"
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["ckpt_3.pt", "ckpt_4.pt"]
    assert (tmp_path / "last.pt").read_bytes() == path.read_bytes()
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_foreign_or_missing_checkpoints_are_reported(tmp_path):
    torch.save({"a": 1}, tmp_path / "x.pt")
    with pytest.raises(GtalignError, match="not a gtalign checkpoint"):
        ckpt.load_checkpoint(tmp_path / "x.pt")
    with pytest.raises(GtalignError, match="checkpoint not found"):
        ckpt.load_checkpoint(tmp_path / "none.pt")


def test_process_shares_make_up_the_global_batch():
    single = list(GlobalBatches(10, 4, seed=3, epoch=1))
    shares = [list(GlobalBatches(10, 4, seed=3, epoch=1, info=ProcessInfo(r, 2))) for r in range(2)]
    assert len(single) == 2 and all(len(set(b)) == 4 for b in single)
    assert [a + b for a, b in zip(*shares)] == single
    assert list(GlobalBatches(10, 4, seed=3, epoch=1, start=1)) == single[1:]
    assert list(GlobalBatches(10, 4, seed=3, epoch=2)) != single
    with pytest.raises(GtalignError, match="divisible by the number of processes"):
        GlobalBatches(10, 4, seed=0, epoch=0, info=ProcessInfo(0, 3))
    with pytest.raises(GtalignError, match=r"batch_size \(4\) is larger than the number of videos \(3\)"):
        GlobalBatches(3, 4, seed=0, epoch=0)


def _decode_event(data: bytes) -> dict:
    """A minimal protobuf reader (wire types 0, 1, 2, 5) for the fields of TensorBoard's Event and Summary."""
    out, pos = {}, 0

    def varint(p):
        shift = value = 0
        while True:
            b = data[p]
            value |= (b & 0x7F) << shift
            shift, p = shift + 7, p + 1
            if b < 0x80:
                return value, p

    while pos < len(data):
        key, pos = varint(pos)
        field, wire = key >> 3, key & 7
        if wire == 1:
            out[field] = struct.unpack("<d", data[pos:pos + 8])[0]
            pos += 8
        elif wire == 5:
            out[field] = struct.unpack("<f", data[pos:pos + 4])[0]
            pos += 4
        elif wire == 0:
            out[field], pos = varint(pos)
        else:
            n, pos = varint(pos)
            out[field] = data[pos:pos + n]
            pos += n
    return out


def test_tensorboard_events_and_csv_hold_the_scalars(tmp_path):
    log = ScalarLog(tmp_path)
    log.write(5, {"train/loss": 0.25})
    log.write(10, {"train/loss": 0.125, "val/loss": 0.5})
    log.close()
    events = [_decode_event(bytes(r)) for _, r in iter_records(next(tmp_path.glob("events.out.tfevents.*")))]
    assert events[0][3] == b"brain.Event:2"
    scalars = []
    for e in events[1:]:
        value = _decode_event(_decode_event(e[5])[1])
        scalars.append((e[2], value[1].decode(), value[2]))
    assert scalars == [(5, "train/loss", 0.25), (10, "train/loss", 0.125), (10, "val/loss", 0.5)]
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0] == "step,tag,value,wall_time" and rows[1].startswith("5,train/loss,0.25,")
    ScalarLog(tmp_path, resume_step=5).close()  # a resumed run drops the rows after its checkpoint
    assert [r.split(",")[0] for r in (tmp_path / "log.csv").read_text().splitlines()] == ["step", "5"]


def test_learning_rate_schedules():
    cos = OptimConfig(schedule="cosine", warmup_steps=2)
    assert [round(lr_factor(s, cos, 10), 4) for s in (0, 1, 2, 6, 10)] == [0.5, 1.0, 1.0, 0.5, 0.0]
    step = OptimConfig(schedule="step", step_size=3, gamma=0.5)
    assert [lr_factor(s, step, 10) for s in (0, 2, 3, 6)] == [1.0, 1.0, 0.5, 0.25]
    with pytest.raises(GtalignError, match="optim.schedule must be one of"):
        lr_factor(0, OptimConfig(schedule="linear"), 10)


def test_build_data_progress_false_shows_no_feature_cache_bar(tiny_config, synth_root, tmp_path, capsys):
    from gtalign.train.data import build_data
    from gtalign.train.trainer import build_embedder

    def stderr_of_building(run: str, progress: bool) -> str:
        config = tiny_config(synth_root, tmp_path / run, "model.cache_features=true", "augment.enabled=false",
                             f"model.cache_dir={tmp_path / run / 'cache'}")
        capsys.readouterr()
        data = build_data(config, build_embedder(config), torch.device("cpu"), ProcessInfo(), progress=progress)
        assert len(data.train) > 0 and data.collate is not None
        return capsys.readouterr().err

    assert "trunk features" in stderr_of_building("loud", True)
    assert stderr_of_building("quiet", False) == ""
