"""Phone videos filmed in portrait: frames stored sideways with a display rotation, read upright or as stored.

A phone held upright writes its frames sideways and tags the file with a rotation that players apply. gtalign turns
decoded frames by that tag (`gtalign.data.video.quarter_turns`); a reader that ignores it (gtalign before it did)
hands BlazePose, the person crop and the trunk a person lying on their side.

The camera pairs of `align_real.py` (Pose2Sim's synchronised cameras, one person and one person with a bystander;
same warps and copies, in the same work folder) are aligned by the default as filmed, and with one or both videos
rewritten as a phone stores them: sideways and tagged -90, read with the tag applied (now) and, from a copy with the
same pixels and no tag, as a reader that ignores it sees them; an upright re-encoded copy is the control for what
re-encoding alone changes. Reported per condition: the error measures of
`align_real.py`, and the ratio of the mean error with the tag ignored to that with it applied. `docs/results.md`
gets the table (section align-rotated).

Usage: ``python benchmarks/align_rotated.py [--out bench_out/align_real]``.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from align_real import MULTIVIEW, _camera_pairs, extract_cached, metrics, pooled  # noqa: E402
from common import machine_info, machine_line, markdown_table, publish  # noqa: E402
from fetch_clips import cache_dir  # noqa: E402

from gtalign.apps.align import align_features  # noqa: E402
from gtalign.apps.features import DEFAULT_FEATURES, FeatureExtractor, FeatureSpec  # noqa: E402
from gtalign.data.video import iter_video, write_video  # noqa: E402

PHONE_ROTATION = -90  # what a phone held upright tags its sideways frames with


def rewritten(path: Path, fps: float, folder: Path, turned: bool, tagged: bool) -> Path:
    """`path`'s frames re-encoded (H.264, default quality): `turned` stores them as a phone stores them in portrait (a
    quarter turn counter-clockwise), `tagged` tags the file with `PHONE_ROTATION`. Copies with and without the tag
    hold the same pixels (same encoder, same settings); the upright copy is the control for the re-encoding."""
    out = folder / f"{path.stem}_{'sideways' if turned else 'upright'}{'_tagged' if tagged else ''}.mp4"
    if not out.exists():
        frames = iter_video(path)
        stored = (np.rot90(frame, -(PHONE_ROTATION // 90)) for frame in frames) if turned else frames
        write_video(out, stored, fps, codec="libx264", display_rotation=PHONE_ROTATION if tagged else 0)
    return out


def evaluate(conditions: dict[str, list], cache: Path) -> dict[str, list[dict]]:
    """Per-pair metrics of the default for every condition's pairs (features two videos at a time, cached; the
    alignments one after another, a tenth of a second each)."""
    every = [p for pairs in conditions.values() for p in pairs]
    feats = {path: f for path, (f, _) in extract_cached(every, FeatureExtractor(DEFAULT_FEATURES), cache).items()}
    spec = FeatureSpec.parse(DEFAULT_FEATURES)
    return {name: [metrics(align_features(spec, feats[p.a], feats[p.b], p.fps_a, p.fps_b).alignment.b_of_a, p)
                   for p in pairs] for name, pairs in conditions.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench_out/align_real", help="align_real.py's work folder")
    p.add_argument("--no-docs", action="store_true", help="do not update docs/results.md")
    args = p.parse_args()
    out = Path(args.out)
    videos = out / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    pairs = [pair for c, (_, cams) in enumerate(MULTIVIEW) for i, j in cams
             for pair in _camera_pairs(cache_dir(), videos, c, i, j, 1)]
    rotated = out / "rotated"
    rotated.mkdir(exist_ok=True)

    def rewrite(which: str, turned: bool = True, tagged: bool = False) -> list:
        return [dataclasses.replace(pr, **{k: rewritten(getattr(pr, k), getattr(pr, f"fps_{k}"), rotated, turned,
                                                        tagged) for k in which}) for pr in pairs]

    conditions = {"both as filmed (upright)": pairs,
                  "B re-encoded upright (control for the re-encoding)": rewrite("b", turned=False),
                  "B from a phone in portrait, tag applied (now)": rewrite("b", tagged=True),
                  "B from a phone in portrait, tag ignored (before)": rewrite("b"),
                  "both re-encoded upright (control)": rewrite("ab", turned=False),
                  "both from phones in portrait, tags applied (now)": rewrite("ab", tagged=True),
                  "both from phones in portrait, tags ignored (before)": rewrite("ab")}
    found = evaluate(conditions, out / "features")
    rows = []
    for name, per_pair in found.items():
        mean = float(np.mean([r["mean"] for r in per_pair]))
        ratio = ""
        if "ignored" in name:
            applied = found[name.replace("ignored (before)", "applied (now)")]
            ratio = f"{mean / float(np.mean([r['mean'] for r in applied])):.2f}x"
        worst = max(zip(pairs, per_pair), key=lambda t: t[1]["mean"])
        rows.append([name, round(mean, 2), round(100 * float(np.mean([r["within3"] for r in per_pair])), 1),
                     pooled(per_pair),
                     round(float(np.mean([r["tau"] for r in per_pair])), 3),
                     f"{worst[0].name} {worst[1]['mean']:.2f}", ratio])
    table = markdown_table(["videos", "mean error (frames)", "within 3 (%)", "all frames pooled: mean error, within 3",
                            "Kendall's tau", "worst pair", "error with the tag ignored / applied"], rows)
    text = (f"### Phone videos in portrait: the rotation tag (`benchmarks/align_rotated.py`, {len(pairs)} camera "
            f"pairs)\n\n{machine_line(machine_info())}\n\n{table}\nThe sideways copies are re-encoded (H.264) from "
            "the pairs' videos; those with and without the tag hold the same pixels, and the upright re-encoded "
            "copies show what the re-encoding alone changes.\n")
    publish(text, "align-rotated", not args.no_docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
