"""The order of training clips: global batches of videos that do not depend on the number of processes.

Epoch `e` visits the N videos in a random permutation drawn from `(seed, e)`; global batch `j` of the epoch is
items `[j * B, (j + 1) * B)` of it (the last incomplete batch is dropped) and process r of W takes its contiguous
share. The position (epoch, batch) is all the state there is, so a resumed run sees the same batches.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import torch
import torch.utils.data

from gtalign.errors import GtalignError
from gtalign.train.distributed import ProcessInfo, local_share


@dataclass
class SamplerState:
    """Where the training data stands: the epoch, and the batches of it already used (saved in checkpoints)."""

    epoch: int = 0
    position: int = 0  # global batches of the epoch already used

    def to_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}


class GlobalBatches(torch.utils.data.Sampler[list[int]]):
    """Index lists of this process's share of each global batch of one epoch, from `start` on."""

    def __init__(self, num_items: int, batch_size: int, seed: int, epoch: int, start: int = 0,
                 info: ProcessInfo = ProcessInfo()):
        if num_items < batch_size:
            raise GtalignError(f"data.batch_size ({batch_size}) is larger than the number of videos ({num_items})")
        self.batch_size, self.start = batch_size, start
        self.share = local_share(batch_size, info)
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        self.order = torch.randperm(num_items, generator=generator).tolist()

    @property
    def batches_per_epoch(self) -> int:
        return len(self.order) // self.batch_size

    def __len__(self) -> int:
        return max(0, self.batches_per_epoch - self.start)

    def __iter__(self) -> Iterator[list[int]]:
        for j in range(self.start, self.batches_per_epoch):
            yield self.order[j * self.batch_size:(j + 1) * self.batch_size][self.share]


def epoch_loader(dataset: Any, collate: Any, batch_size: int, seed: int, state: SamplerState, workers: int,
                 info: ProcessInfo = ProcessInfo()) -> torch.utils.data.DataLoader:
    """A DataLoader over the rest of epoch `state.epoch` (the dataset is told the epoch first).

    The loader's own generator (seeded from seed and epoch) seeds its workers, so creating it does not touch the
    global torch generator, and a resumed run draws the same random numbers as an uninterrupted one.
    """
    if hasattr(dataset, "set_epoch"):
        dataset.set_epoch(state.epoch)
    sampler = GlobalBatches(len(dataset), batch_size, seed, state.epoch, state.position, info)
    return torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, num_workers=workers,
                                       generator=torch.Generator().manual_seed(seed * 7919 + state.epoch),
                                       persistent_workers=False, pin_memory=torch.cuda.is_available())
