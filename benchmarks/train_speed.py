"""Training speed on CPU: steps/s and frames/s of the published setting (batch 4 x 20 steps, k=2 context frames)
at a reduced image size, for GTA and TCC, with a frozen cached trunk and with the full model (trunk in the loop).

Reports where the time of a step goes: trunk forward, embedder forward, loss forward, backward + update.
Usage: python benchmarks/train_speed.py [--image-size 112] [--trunk mobilenet_v2] [--steps 5] [--threads 2]
"""
from __future__ import annotations

import argparse
import time

import torch

from gtalign import losses
from gtalign.models import Embedder


def timed(fn, repeats: int) -> float:
    fn()  # warm-up (numba compilation, allocator)
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def bench(trunk: str, regime: str, loss_name: str, size: int, steps: int, b: int = 4, t: int = 20, c: int = 3):
    torch.manual_seed(0)
    model = Embedder(trunk, None, regime).train()
    loss = losses.create(loss_name)
    params = [p for p in list(model.parameters()) + list(loss.parameters()) if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-4)
    frames = torch.randn(b, t, c, 3, size, size)
    with torch.no_grad():
        feats = model.trunk_features(frames.flatten(0, 2)).unflatten(0, (b, t, c))
    cached = regime == "frozen"

    def trunk_fwd():
        with torch.set_grad_enabled(not cached):
            model.trunk_features(frames.flatten(0, 2))

    def embed_fwd():
        model.embed_features(feats)

    embs = model.embed_features(feats).detach().requires_grad_()

    def loss_fwd():
        loss(embs)

    def step():
        opt.zero_grad()
        e = model.embed_features(feats) if cached else model(frames)
        loss(e).backward()
        opt.step()

    parts = {"trunk fwd": 0.0 if cached else timed(trunk_fwd, 1), "embedder fwd": timed(embed_fwd, steps),
             "loss fwd": timed(loss_fwd, steps)}
    total = timed(step, steps)
    return total, parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image-size", type=int, default=112)
    ap.add_argument("--trunk", default="mobilenet_v2")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"CPU, {args.threads} threads, trunk {args.trunk}, {args.image_size} px, batch 4 x 20 steps x 3 frames")
    print(f"{'loss':8} {'trunk':14} {'step s':>8} {'steps/s':>8} {'frames/s':>9}   time per step")
    for regime, label in (("frozen", "frozen+cached"), ("train_all", "full model")):
        for name in ("gta", "tcc"):
            total, parts = bench(args.trunk, regime, name, args.image_size, args.steps)
            where = ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in parts.items() if v)
            print(f"{name:8} {label:14} {total:8.3f} {1 / total:8.2f} {80 / total:9.1f}   {where}, "
                  f"backward+update {max(total - sum(parts.values()), 0) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
