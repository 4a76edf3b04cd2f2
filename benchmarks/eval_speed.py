"""Speed of the evaluation protocols: Kendall's tau and the linear SVM on 100 videos x 300 frames x 128-D.

Target (issue #6): under 30 s for both on 2 CPU cores. Embeddings are synthetic (a smooth curve per class and
phase plus noise, L2-normalised), so the numbers measure speed, not quality.

    python benchmarks/eval_speed.py [--videos 100] [--frames 300] [--dim 128] [--classes 4] [--phases 5] [--all]

`--all` adds retrieval (AP@5/10/15) and few-shot (k = 1, 5, 10; 10 episodes each) rows.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from gtalign.evaluate import (
    EmbeddingSet,
    VideoEmbedding,
    evaluate_fewshot,
    evaluate_kendall,
    evaluate_retrieval,
    evaluate_svm,
)


def synthetic_set(videos: int, frames: int, dim: int, classes: int, phases: int, seed: int = 0) -> EmbeddingSet:
    """`videos` videos per split (train and val), spread over `classes`; embeddings `(frames, dim)`."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(classes, 4, dim))
    out = []
    for split in ("train", "val"):
        for i in range(videos):
            c = i % classes
            t = np.sort(rng.uniform(size=frames))  # a random time warp
            curve = np.stack([np.sin(np.pi * (k + 1) * t) for k in range(4)], 1) @ basis[c]
            emb = curve + 0.5 * rng.normal(size=(frames, dim))
            emb /= np.linalg.norm(emb, axis=1, keepdims=True)
            labels = np.minimum((t * phases).astype(np.int64), phases - 1)
            out.append(VideoEmbedding(f"{split}{i}", emb.astype(np.float32), f"class{c}", split, labels))
    return EmbeddingSet(out)


def headline(result: dict) -> str:
    """The protocol's main numbers, short."""
    for key, name in (("tau", "tau"), ("accuracy", "acc"), ("ap", "AP@K"), ("shots", "k-shot acc")):
        if key in result:
            value = result[key]
            if isinstance(value, dict):
                return f"{name} " + ", ".join(f"{k}: {v['mean'] if isinstance(v, dict) else v:.3f}"
                                              for k, v in value.items())
            return f"{name}={value:.3f}"
    return ""


def timed(fn, *args, **kwargs) -> tuple[float, dict]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=100, help="videos per split")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--phases", type=int, default=5)
    parser.add_argument("--all", action="store_true", help="also time retrieval and few-shot")
    args = parser.parse_args()
    data = synthetic_set(args.videos, args.frames, args.dim, args.classes, args.phases)
    train, val = data.split("train"), data.split("val")
    print(f"# eval_speed: {args.videos} train + {args.videos} val videos x {args.frames} frames x {args.dim}-D, "
          f"{args.classes} classes x {args.phases} phases; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    rows = [("kendall (stride 5, all ordered pairs per class)", *timed(evaluate_kendall, val, stride=5)),
            ("kendall (stride 1)", *timed(evaluate_kendall, val, stride=1)),
            ("svm (fractions 0.1, 0.5, 1.0)", *timed(evaluate_svm, train, val)),
            ("svm --per-event (fraction 1.0)", *timed(evaluate_svm, train, val, fractions=(1.0,), per_event=True))]
    if args.all:
        rows += [("retrieval (K = 5, 10, 15, every frame)", *timed(evaluate_retrieval, train, val)),
                 ("fewshot (k = 1, 5, 10; 10 episodes)", *timed(evaluate_fewshot, train, val, shots=(1, 5, 10),
                                                               episodes=10))]
    print("| protocol | seconds | result |\n|---|---:|---|")
    for name, seconds, result in rows:
        print(f"| {name} | {seconds:.2f} | {headline(result)} |")
    total = rows[0][1] + rows[2][1]
    print(f"\nkendall (stride 5) + svm (3 fractions): {total:.1f} s (target < 30 s on 2 cores)")


if __name__ == "__main__":
    main()
