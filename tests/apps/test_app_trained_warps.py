"""A trained checkpoint recovers known time warps through `gtalign align` (issue 7: under 2 frames mean error).

The checkpoint is trained here, as `gtalign align --fit` trains one: the GTA loss on a small 3D-conv head over
frozen ImageNet MobileNetV2 features, 300 steps on 24 synthetic squat videos (64 px). The videos it is tested on
are held out:

- re-timed copies: a held-out performer and copies of the same performance on other random time warps (speeds,
  pauses, idling; `VideoSpec.retimed`), written as mp4 files at 30 and 24 fps and aligned by the command line.
  Measured when written: 0.5-1.9 frames per pair, 1.2-1.4 on average over training seeds 0-2 (ImageNet features
  without training, on similar pairs: 0.6-0.8);
- other performers (other body proportions, style, colours, backgrounds and warps): 2.9-3.2 frames mean error
  over training seeds 0-2, against 1.5 (112 px) and 1.8 (64 px) for the ImageNet features on the same pairs: a
  head trained for seconds does not beat ImageNet features at frame-accurate alignment of these drawings
  (docs/applications.md). The bound asserted there is looser than the issue's 2 frames.
"""
import csv

import numpy as np
import pytest

from gtalign.apps.alignment import align_embeddings
from gtalign.apps.encoders import CheckpointEncoder
from gtalign.cli import main
from gtalign.data import open_source
from gtalign.data.manifest import Manifest
from gtalign.data.source import VideoSource
from gtalign.data.synth import sample_spec
from gtalign.data.synth.timeline import sample_warp
from gtalign.data.video import write_video
from tests._helpers.apps import needs_weights, warp_frame_error

pytestmark = pytest.mark.slow

SIZE = 64
FPS_A, FPS_B = 30.0, 24.0


@pytest.fixture(scope="module")
def squats(tmp_path_factory):
    """24 training and 6 held-out synthetic squat videos."""
    from gtalign.data.synth import generate_dataset

    manifest = generate_dataset(tmp_path_factory.mktemp("squats"), num_classes=1, videos_per_class=30,
                                min_frames=24, max_frames=48, image_size=SIZE, seed=0, workers=1,
                                val_fraction=0.2, progress=False)
    return open_source(manifest, progress=False)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, squats):
    needs_weights()
    from gtalign.apps.fit import FitSettings, fit_embedder

    train = VideoSource(Manifest(name=squats.manifest.name, videos=[e for e in squats.entries if e.split == "train"]))
    settings = FitSettings(steps=300, image_size=SIZE, lr=1e-3, seed=0, device="cpu")
    return fit_embedder(train, tmp_path_factory.mktemp("trained"), settings, progress=False)


def retimed_videos(folder, performer: int, copies: int):
    """A held-out performance (30 fps) and `copies` re-timed copies (24 fps, other lengths) as mp4 files, with the
    canonical time of every frame."""
    spec = sample_spec(0, 0, 1000 + performer, 24, 48, SIZE)
    rng = np.random.default_rng(performer)
    specs = [spec] + [spec.retimed(sample_warp(spec.action_def.num_phases, rng), int(rng.integers(24, 49)))
                      for _ in range(copies)]
    paths = [write_video(folder / f"p{performer}_{k}.mp4", np.stack(list(s.frames())), fps=FPS_A if k == 0 else FPS_B,
                         quality=2) for k, s in enumerate(specs)]
    return paths, [s.canonical_time for s in specs]


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def test_align_command_recovers_known_warps_with_a_trained_checkpoint(tmp_path, checkpoint):
    errors = []
    for performer in range(2):
        paths, times = retimed_videos(tmp_path, performer, copies=3)
        out = tmp_path / f"out{performer}"
        assert main(["align", *map(str, paths), "--checkpoint", str(checkpoint), "-o", str(out), "--quiet",
                     "--device", "cpu"]) == 0
        for k in range(1, len(paths)):
            table = read_csv(out / f"{k:02d}_{paths[k].stem}" / "correspondence.csv")
            assert len(table["frame_a"]) == len(times[0])
            np.testing.assert_allclose(table["time_a_s"], table["frame_a"] / FPS_A, atol=1e-6)
            assert table["frame_b"].min() >= 0 and table["frame_b"].max() < len(times[k])
            assert np.all(np.diff(table["time_b_s"]) >= -1e-9)  # a DTW path never runs backwards in time
            errors.append(warp_frame_error(times[0], times[k], table["frame_b"].astype(int)))
    print("trained checkpoint, re-timed copies: mean frame error per pair", np.round(errors, 2))
    assert np.mean(errors) < 2.0, errors
    assert max(errors) < 3.0, errors


def test_other_performers_align_within_a_few_frames(squats, checkpoint):
    encoder = CheckpointEncoder(checkpoint, "cpu")
    held_out = [i for i, e in enumerate(squats.entries) if e.split == "val"]
    emb = {i: encoder.encode(squats, i) for i in held_out}
    errors = [warp_frame_error(squats.entries[a].meta["canonical_time"], squats.entries[b].meta["canonical_time"],
                               align_embeddings(emb[a], emb[b]).frame_b)
              for a in held_out for b in held_out if a != b]
    print("trained checkpoint, other performers: mean frame error", round(float(np.mean(errors)), 2))
    assert len(errors) == 30
    assert np.mean(errors) < 4.0, errors
