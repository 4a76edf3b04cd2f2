"""Two processes (gloo on CPU) train exactly like one process on the same global batch.

One pair of spawned processes runs both checks (starting processes is the slow part).
"""
from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gtalign.train import checkpoint as ckpt
from gtalign.train.distributed import GlobalBatchNorm, gather_batch
from gtalign.train.trainer import Trainer

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bn_case() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    return torch.randn(4, 3, 5, 2, dtype=torch.float64), torch.arange(120, dtype=torch.float64).reshape(4, 3, 5, 2)


def _global_bn(rank: int, out: str) -> None:
    x, weights = _bn_case()
    bn = GlobalBatchNorm(3).double().train()
    mine = x[rank * 2:(rank + 1) * 2].clone().requires_grad_()
    y = gather_batch(bn(mine))
    (y * weights).sum().backward()
    torch.save({"y": y.detach(), "grad_w": bn.weight.grad, "running_var": bn.running_var, "grad_x": mine.grad},
               f"{out}.{rank}")


def _worker(rank: int, world: int, port: int, bn_out: str, overrides: list[str]) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    _global_bn(rank, bn_out)
    from gtalign.train.config import load_config

    Trainer(load_config(None, overrides), progress=False).fit()
    dist.destroy_process_group()


def test_two_processes_give_the_losses_and_weights_of_one(synth_root, tmp_path, tiny_config, losses_logged):
    # dropout draws differ with the number of processes, so it is off; BatchNorm runs in training mode. TCC is
    # a loss over all pairs of the batch (and needs no numba compilation in the fresh processes). SGD keeps the
    # update linear in the gradient (Adam turns near-zero gradients into +-lr steps whose sign is rounding noise)
    common = ["train.max_steps=3", "data.batch_size=4", "model.dropout=0.0", "loss.name=tcc", "model.regime=only_bn",
              "optim.name=sgd", "optim.lr=0.05"]
    two = tiny_config(synth_root, tmp_path / "two", *common)
    overrides = [f"{section}.{key}={'null' if value is None else value}" for section, values in two.to_dict().items()
                 for key, value in values.items()]
    bn_out = str(tmp_path / "bn")
    mp.start_processes(_worker, args=(2, _free_port(), bn_out, overrides), nprocs=2, join=True,
                       start_method="spawn")

    # GlobalBatchNorm over 2 x 2 items == BatchNorm over the 4 items (values, running stats, gradients)
    x, weights = _bn_case()
    x.requires_grad_()
    bn = torch.nn.BatchNorm2d(3).double().train()
    (bn(x) * weights).sum().backward()
    got = [torch.load(f"{bn_out}.{r}") for r in range(2)]
    bn_ref = torch.nn.BatchNorm2d(3).double().train()
    torch.testing.assert_close(got[0]["y"], bn_ref(x.detach()))
    torch.testing.assert_close(got[0]["running_var"], bn_ref.running_var)
    # each process's gradients are world_size x its share's: DDP's average gives the whole batch's
    torch.testing.assert_close((got[0]["grad_w"] + got[1]["grad_w"]) / 2, bn.weight.grad, rtol=1e-6, atol=1e-9)
    # (E[x^2] - mean^2 loses a few digits to cancellation against the two-pass reference)
    torch.testing.assert_close(torch.cat([g["grad_x"] for g in got]) / 2, x.grad, rtol=1e-5,
                               atol=1e-5 * float(x.grad.abs().max()))

    # training: 1 process on the same global batches
    Trainer(tiny_config(synth_root, tmp_path / "one", *common), progress=False).fit()
    a, b = losses_logged(tmp_path / "one"), losses_logged(tmp_path / "two")
    assert sorted(a) == sorted(b) == [1, 2, 3]
    for step in a:
        assert abs(a[step] - b[step]) <= 1e-5 * max(1.0, abs(a[step]))
    wa = ckpt.load_checkpoint(tmp_path / "one" / "last.pt")["model"]
    wb = ckpt.load_checkpoint(tmp_path / "two" / "last.pt")["model"]
    # float32 sums in another order: the first trunk BatchNorm biases (sums over B*T*C*h*w values) differ most
    for key in wa:
        torch.testing.assert_close(wb[key].float(), wa[key].float(), atol=1e-4, rtol=1e-3)
