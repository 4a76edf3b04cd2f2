"""Several processes (torchrun): process-group setup, the global batch and BatchNorm over all processes.

Every process embeds its share of the global batch; `gather_batch` concatenates the shares of all processes in rank
order with a backward pass, and every process computes the loss of the WHOLE global batch. The gradient a process
receives for its share is then `world_size` times the true one, which DistributedDataParallel's averaging cancels:
the update is the gradient of the global-batch loss, whatever the number of processes. BatchNorm layers that use
batch statistics become `GlobalBatchNorm`, whose statistics are those of the global batch.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from gtalign.errors import GtalignError


@dataclass(frozen=True)
class ProcessInfo:
    """This process's place among the training processes (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def init_processes(use_cuda: bool) -> ProcessInfo:
    """Join the process group described by torchrun's environment (NCCL on GPU, gloo on CPU), if any."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return ProcessInfo()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return ProcessInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def local_share(global_batch: int, info: ProcessInfo) -> slice:
    """Which items of a global batch this process handles (equal contiguous shares in rank order)."""
    if global_batch % info.world_size:
        raise GtalignError(f"data.batch_size ({global_batch}) must be divisible by the number of processes "
                           f"({info.world_size})")
    share = global_batch // info.world_size
    return slice(info.rank * share, (info.rank + 1) * share)


class _GatherBatch(torch.autograd.Function):
    """All processes' (b, ...) tensors -> (world * b, ...); backward sums the gradients of every process."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.rank, ctx.share = dist.get_rank(), x.shape[0]
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad[ctx.rank * ctx.share:(ctx.rank + 1) * ctx.share]


class _SumOverProcesses(torch.autograd.Function):
    """all_reduce(sum) with a backward (the sum of the gradients of every process)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad


def gather_batch(x: torch.Tensor) -> torch.Tensor:
    """This process's share (b, ...) -> the global batch (world * b, ...), differentiable; identity alone."""
    return _GatherBatch.apply(x) if is_distributed() else x


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm (any number of dims) whose training statistics are those of the global batch of all processes.

    Works with gloo on CPU (torch's SyncBatchNorm needs a GPU). Alone it is an ordinary BatchNorm.
    """

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise GtalignError(f"GlobalBatchNorm input must have a channel dim, got shape {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and is_distributed()):
            return super().forward(x)
        c = x.shape[1]
        dims = [0] + list(range(2, x.dim()))
        count = torch.full((1,), x.numel() / c, dtype=torch.float32, device=x.device)
        stats = _SumOverProcesses.apply(torch.cat([x.float().sum(dims), (x.float() ** 2).sum(dims), count]))
        n = stats[-1]
        mean = stats[:c] / n
        var = (stats[c:2 * c] / n - mean ** 2).clamp_min(0)
        tracked, running_mean, running_var = self.num_batches_tracked, self.running_mean, self.running_var
        if self.track_running_stats and tracked is not None and running_mean is not None and running_var is not None:
            with torch.no_grad():
                tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / float(tracked)
                running_mean.lerp_(mean.to(running_mean.dtype), m)
                running_var.lerp_((var * n / (n - 1).clamp_min(1)).to(running_var.dtype), m)
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (x - mean.view(shape).to(x.dtype)) * torch.rsqrt(var.view(shape) + self.eps).to(x.dtype)
        return y * self.weight.view(shape) + self.bias.view(shape) if self.affine else y


def convert_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm layer of `module` that is in training use by a `GlobalBatchNorm` with its state."""
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm) and not isinstance(child, GlobalBatchNorm):
            new = GlobalBatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                                  child.track_running_stats)
            new.load_state_dict(child.state_dict())
            new.train(child.training)
            if child.affine:
                new.weight.requires_grad_(child.weight.requires_grad)
                new.bias.requires_grad_(child.bias.requires_grad)
            setattr(module, name, new)
        else:
            convert_batchnorm(child)
    return module
