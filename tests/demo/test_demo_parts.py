"""Unit tests of the demo's parts: settings, the comparison table, the frame-time reference, the held-out
pair's scores. Fast: no training."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from gtalign.apps.demo import table
from gtalign.apps.demo.embed_cached import embed_true_pose, frame_time
from gtalign.apps.demo.pipeline import jobs_for, pair_scores, start_order
from gtalign.apps.demo.settings import REFERENCES, UNTRAINED, load_settings, quick_settings, settings_hash
from gtalign.data.synth import VideoSpec, generate_dataset
from gtalign.data.synth.skeleton import JOINTS
from gtalign.errors import GtalignError
from gtalign.evaluate import EmbeddingSet, VideoEmbedding

# ------------------------------------------------------------------------------------------------ settings

def test_presets_and_yaml_override(tmp_path):
    full, quick = load_settings("full"), load_settings("quick")
    assert [m.key for m in full.methods] == ["speednet", "tcn", "sal", "d3tw", "tcc", "softdtw", "lav", "dropdtw",
                                            "scl", "carl", "gta"]
    carl = full.method("carl")
    assert carl.loss == {"name": "scl"} and carl.model == {"temporal_head": "transformer"}
    assert full.dataset.num_classes == 4 and full.dataset.videos_per_class == 40  # the data issue's default
    assert quick.dataset.videos_per_class < full.dataset.videos_per_class
    path = tmp_path / "demo.yaml"
    path.write_text("training:\n  train:\n    max_steps: 7\nmethods:\n  - {key: g, label: G, loss: {name: gta}}\n")
    custom = load_settings("quick", path)
    assert custom.training.train.max_steps == 7
    assert custom.training.model == quick.training.model  # merged key by key, not replaced
    assert [m.key for m in custom.methods] == ["g"]


@pytest.mark.parametrize("text, message", [("nonsense: 1\n", "keys among"),
                                           ("methods:\n  - {key: g}\n", "methods[0]"),
                                           ("dataset: {colours: 3}\n", "dataset"),
                                           ("training:\n  train:\n    max_step: 7\n", "max_steps"),
                                           ("training:\n  optim:\n    lr: fast\n", "optim.lr")])
def test_bad_settings_are_named(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(GtalignError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings("full", path)
    with pytest.raises(GtalignError, match="preset"):
        load_settings("medium")


def test_every_job_is_named_by_what_it_depends_on():
    s = quick_settings()
    jobs = jobs_for(s, [0, 1], ablations=True)
    keys = [m.key for m in [*REFERENCES, *s.methods, *s.ablations]]
    assert [(j.method.key, j.seed) for j in jobs] == [(k, seed) for seed in (0, 1) for k in keys]
    assert settings_hash(s.training.to_dict(), 0) == settings_hash(s.training.to_dict(), 0)
    assert settings_hash(s.training.to_dict(), 0) != settings_hash(s.training.to_dict(), 1)


# ------------------------------------------------------------------------------------------------ the table

def _record(method: str, seed: int, acc: float, tau: float, err: float) -> dict:
    return {"method": method, "label": method.upper(), "seed": seed,
            "protocols": {"svm": {"numbers": {"accuracy": {"0.5": acc / 2, "1.0": acc}, "fractions": [0.5, 1.0]}},
                          "kendall": {"numbers": {"tau": tau}},
                          "alignment": {"numbers": {"nn": {"mae_frames": err + 1, "tau": tau},
                                                    "dtw": {"mae_frames": err, "tau": tau}}}},
            "pair": {"dtw": {"mae_frames": err, "tau": 1.0}, "nn": {"mae_frames": err + 1, "tau": 0.5}}}


def test_table_means_spreads_and_best():
    records = [_record("a", 0, 0.50, 0.2, 3.0), _record("a", 1, 0.70, 0.4, 5.0),
               _record(UNTRAINED, 0, 0.90, 0.9, 1.0), _record("b", 0, 0.40, 0.5, 2.0)]
    cols = table.columns(records)
    headers = [c.header for c in cols]
    assert headers[:3] == ["SVM 50%", "SVM 100%", "Kendall tau"]
    assert headers[-1].startswith(table.PAIR) and headers[-1].endswith(table.LOWER)
    rows = {r.key: r for r in table.rows(records, cols)}
    svm100, pair = cols[1], cols[-1]  # pair: the DTW error of the held-out pair
    assert rows["a"].mean(svm100) == pytest.approx(60.0)
    assert rows["a"].std(svm100) == pytest.approx(np.std([50.0, 70.0], ddof=1))
    assert math.isnan(rows["b"].std(svm100))  # one seed: no spread
    assert rows["a"].mean(pair) == pytest.approx(4.0)
    grid = table.comparison(records, exclude_from_best=(UNTRAINED,))
    body = {label: (cells, bold) for label, cells, bold in grid.body()}
    assert body["A"][0][1] == f"60.00 ± {np.std([50.0, 70.0], ddof=1):.2f}"
    assert body["A"][1][1] and not body["B"][1][1]            # higher accuracy wins, untrained excluded
    assert body["B"][1][-1] and not body["A"][1][-1]          # lower error wins
    assert body["B"][0][2] == "50.00"
    records[3]["protocols"]["kendall"] = {"error": "tau undefined (collapsed embedding)"}
    body = {label: cells for label, cells, _ in table.comparison(records).body()}
    assert body["B"][2] == "-" and body["A"][2] == "30.00 ± 14.14"  # a protocol that failed shows as "-"
    md = grid.markdown("caption")
    assert md.splitlines()[2].startswith("| Method | SVM 50%") and "**60.00" in md
    assert "<b>2.00</b>" in grid.html("caption")


# ------------------------------------------------------------------------------------------------ embeddings

def test_frame_time_reference():
    np.testing.assert_allclose(frame_time(5)[:, 0], [0, 0.25, 0.5, 0.75, 1.0])
    assert frame_time(1).tolist() == [[0.0]]


def test_true_pose_reference_writes_each_performers_joints_and_needs_synthetic_videos(tmp_path):
    manifest = generate_dataset(tmp_path / "synth", num_classes=2, videos_per_class=2, min_frames=8, max_frames=10,
                                image_size=32, workers=0, progress=False)
    index = json.loads(embed_true_pose(manifest, tmp_path / "pose", progress=False).read_text(encoding="utf-8"))
    entries = json.loads(manifest.read_text(encoding="utf-8"))["videos"]
    assert len(index["videos"]) == len(entries) == 4
    for entry in entries:
        emb = np.load(tmp_path / "pose" / f"{entry['id']}.npy")
        joints = VideoSpec.from_meta(entry["meta"]).body_joints()
        assert emb.shape == (entry["num_frames"], len(JOINTS) * 3) and emb.dtype == np.float32
        np.testing.assert_allclose(emb, joints.reshape(len(joints), -1), rtol=1e-6, atol=1e-6)

    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["videos"][0]["meta"] = {}  # a video the generator did not make
    other = manifest.parent / "other.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(GtalignError, match=f"needs synthetic videos; '{entries[0]['id']}'"):
        embed_true_pose(other, tmp_path / "pose2", progress=False)


def _video(vid: str, emb: np.ndarray, times: np.ndarray) -> VideoEmbedding:
    return VideoEmbedding(vid, emb.astype(np.float32), "c", "val", None, {"canonical_time": times.tolist()})


def test_pair_scores_against_a_direct_computation():
    rng = np.random.default_rng(0)
    times_a = np.sort(rng.uniform(0, 1, 12))
    times_b = np.sort(rng.uniform(0, 1, 9))
    truth = np.abs(times_a[:, None] - times_b[None, :]).argmin(1)
    # embeddings that are the canonical times themselves: nearest neighbours find the truth exactly
    exact = EmbeddingSet([_video("a", times_a[:, None], times_a), _video("b", times_b[:, None], times_b)])
    scores = pair_scores(exact, ("a", "b"))
    assert scores["nn"]["mae_frames"] == 0.0
    assert scores["nn"]["tau"] == pytest.approx(stats.kendalltau(np.arange(12), truth).statistic)
    # the frame-time reference: nearest neighbour of t/(N-1) among s/(M-1) is a linear stretch
    linear = EmbeddingSet([_video("a", frame_time(12), times_a), _video("b", frame_time(9), times_b)])
    stretch = np.abs(frame_time(12)[:, 0][:, None] - frame_time(9)[:, 0][None, :]).argmin(1)
    scores = pair_scores(linear, ("a", "b"))
    assert scores["nn"]["mae_frames"] == pytest.approx(np.abs(stretch - truth).mean())


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "configs" / "demo").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_demo_configs_load(path):
    settings = load_settings("full", path)  # training keys and types are checked by the train config schema
    assert settings.methods and len({m.key for m in settings.methods}) == len(settings.methods)


def test_the_most_costly_runs_start_first_seed_by_seed():
    """CARL and SCL (the longest runs) start first within each seed; seeds stay in order; every run starts once."""
    settings = load_settings("full")
    todo = jobs_for(settings, [0, 1], ablations=False)
    order = start_order(todo, list(range(len(todo))))
    assert sorted(order) == list(range(len(todo)))
    seeds = [todo[k].seed for k in order]
    assert seeds == sorted(seeds)
    first_of_seed = [todo[k].method.key for k in order if todo[k].seed == 1][:2]
    assert first_of_seed == ["carl", "scl"]
    costs = [todo[k].method.cost for k in order if todo[k].seed == 0]
    assert costs == sorted(costs, reverse=True)
