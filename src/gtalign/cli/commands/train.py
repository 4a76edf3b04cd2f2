"""`gtalign train` and `gtalign embed`: run the training layer on parsed arguments."""
from __future__ import annotations

import argparse

from gtalign.train.config import load_config
from gtalign.train.embed import embed_dataset
from gtalign.train.trainer import Trainer


def run_train(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.overrides)
    trainer = Trainer(config, resume=args.resume, progress=not args.quiet)
    if trainer.info.is_main:
        where = f"resuming at step {trainer.step}" if args.resume else "starting"
        print(f"run folder {trainer.run_dir.resolve()} ({where}; {config.train.max_steps} steps, loss "
              f"{config.loss['name']}, trunk {config.model.trunk} {config.model.regime}, device {trainer.device}, "
              f"{trainer.info.world_size} process(es))")
    last = trainer.fit()
    if trainer.info.is_main:
        print(f"checkpoint: {last}")
    return 0


def run_embed(args: argparse.Namespace) -> int:
    index = embed_dataset(args.checkpoint, args.data if args.data is not None else args.videos, args.out,
                          split=args.split, chunk=args.chunk, kind=args.kind, device=args.device,
                          progress=not args.quiet, feature_cache=args.feature_cache)
    print(f"embeddings: {index}")
    return 0
