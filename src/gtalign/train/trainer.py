"""The training loop: optimizer and schedule, clipping, mixed precision, validation, logs, checkpoints, resume.

`Trainer(config).fit()` trains up to `train.max_steps` and returns the last checkpoint. With `resume=True` it
continues from `{train.log_dir}/last.pt` exactly where that run stopped: model, loss heads, optimizer, schedule,
random generators and the position in the epoch are restored, so the following losses equal those of an
uninterrupted run. Ctrl-C saves a checkpoint before stopping; a NaN/Inf loss stops without saving and names the
checkpoint to resume from.
"""
from __future__ import annotations

import inspect
import os
import random
import signal
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from gtalign import losses
from gtalign.errors import GtalignError
from gtalign.io import atomic_write_text
from gtalign.models import Embedder
from gtalign.train import checkpoint as ckpt
from gtalign.train.batches import SamplerState, epoch_loader
from gtalign.train.config import Config, dump_config
from gtalign.train.data import TrainingData, build_data, video_lengths, views_per_video, with_video_lengths, with_views
from gtalign.train.distributed import ProcessInfo, convert_batchnorm, init_processes, is_distributed
from gtalign.train.optim import build_optimizer, build_scheduler, lr_factor, parameter_groups
from gtalign.train.scalars import ScalarLog
from gtalign.train.step import EmbedAndLoss


class TrainingDiverged(GtalignError):
    """The loss became NaN or Inf."""


def build_embedder(config: Config) -> Embedder:
    return Embedder.from_config(config.model, config.model.weights, config.data.num_steps)


def build_loss(config: Config) -> torch.nn.Module:
    """The loss of the `loss` section; a loss with a head on the embeddings gets `dim=model.embedding_dim`."""
    kwargs = config.loss_kwargs()
    cls = losses.loss_class(config.loss["name"])
    if "dim" in inspect.signature(cls.__init__).parameters:
        kwargs.setdefault("dim", config.model.embedding_dim)
    return losses.create(config.loss["name"], **kwargs)


def choose_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GtalignError(f"train.device is {name!r} but no CUDA GPU is available")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


class StopRequest:
    """Ctrl-C (SIGINT) sets `requested`, so the loop can stop cleanly after the step in progress.

    A second Ctrl-C interrupts at once. Outside the main thread (where handlers cannot be set) it does nothing.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def any_process(flag: bool, device: torch.device) -> bool:
    """True if `flag` is true in any process (so that all processes stop at the same step)."""
    if not is_distributed():
        return flag
    value = torch.tensor([float(flag)], device=device)
    torch.distributed.all_reduce(value)
    return bool(value.item() > 0)


def _check_run_dir(run_dir: Path) -> None:
    """The run folder must be a folder that exists or can be made and written, checked before any work."""
    if run_dir.exists() and not run_dir.is_dir():
        raise GtalignError(f"train.log_dir {run_dir} is a file; expected a folder for the run")
    parent = run_dir
    while not parent.exists() and parent.parent != parent:
        parent = parent.parent
    if not parent.is_dir():
        raise GtalignError(f"train.log_dir {run_dir} cannot be made: {parent} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise GtalignError(f"train.log_dir {run_dir} cannot be written: {parent} is not writable")


class Trainer:
    """Trains the embedder of `config` with its loss; `fit()` returns the path of the last checkpoint."""

    def __init__(self, config: Config, resume: bool = False, progress: bool = True):
        self.config, self.progress = config, progress
        self.run_dir = Path(config.train.log_dir)
        _check_run_dir(self.run_dir)
        self.device = choose_device(config.train.device)
        if config.train.threads:
            torch.set_num_threads(config.train.threads)
        self.info: ProcessInfo = init_processes(self.device.type == "cuda")
        if self.device.type == "cuda" and config.train.device == "auto":
            self.device = torch.device("cuda", self.info.local_rank)
        seed_everything(config.train.seed)
        embedder = build_embedder(config)
        loss = build_loss(config)
        need = int(getattr(loss, "min_frames", 1))
        if config.data.num_steps < need:
            raise GtalignError(f"data.num_steps={config.data.num_steps} frames per clip is fewer than the {need} that "
                               f"loss {config.loss['name']!r} needs; set data.num_steps >= {need}")
        self.module = EmbedAndLoss(embedder, loss)
        self._training_mode = False  # whether self.module.train() holds (train_step sets it, validate clears it)
        if is_distributed():
            convert_batchnorm(self.module)
        self.module.to(self.device)
        self.optimizer = build_optimizer(parameter_groups(embedder, [self.module.loss], config.optim.l2_weight),
                                         config.optim)
        self.scheduler = build_scheduler(self.optimizer, config.optim, config.train.max_steps)
        self.amp_dtype = self._amp_dtype()
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.forward: torch.nn.Module = self.module  # or its DistributedDataParallel wrapper
        if is_distributed():
            self.forward = torch.nn.parallel.DistributedDataParallel(
                self.module, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        self.step, self.sampler = 0, SamplerState()
        views = views_per_video(config, loss)
        self.data: TrainingData = with_views(build_data(config, embedder, self.device, self.info,
                                                        progress=self.progress), views)
        self.seq_lens = {"train": video_lengths(self.data.train)}
        if self.data.val is not None:
            self.seq_lens["val"] = video_lengths(self.data.val)
        if resume:
            state, path, notes = ckpt.load_resume_state(self.run_dir)
            if notes and path.name != ckpt.LAST:
                self._warn(f"--resume: {'; '.join(notes)}; resuming from {path} (step {state['step']})")
            changes = ckpt.config_changes(state.get("config") or {}, config.to_dict())
            if changes:
                self._warn("--resume: the config differs from the checkpoint's: " + "; ".join(changes))
            self._restore(state)

    def _warn(self, message: str) -> None:
        if self.info.is_main:
            print(f"gtalign train: warning: {message}", file=sys.stderr, flush=True)

    def _amp_dtype(self) -> torch.dtype | None:
        if not (self.config.train.amp and self.device.type == "cuda"):
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    def _autocast(self):
        return torch.autocast("cuda", dtype=self.amp_dtype) if self.amp_dtype else nullcontext()

    # ------------------------------------------------------------------ checkpoints

    def state(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "model": self.module.embedder.state_dict(),
                "loss": self.module.loss.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
                "rng": ckpt.rng_state(), "sampler": self.sampler.to_dict(), "world_size": self.info.world_size}

    def save(self) -> Path:
        """Write `ckpt_{step}.pt` and `last.pt` (main process only; every process's RNG state is the same)."""
        path = ckpt.checkpoint_path(self.run_dir, self.step)
        if self.info.is_main:
            path = ckpt.save_checkpoint(self.run_dir, self.step, self.state(), self.config.train.keep_checkpoints)
        if is_distributed():
            torch.distributed.barrier()
        return path

    def _restore(self, state: dict[str, Any]) -> None:
        self.module.embedder.load_state_dict(state["model"])
        self.module.loss.load_state_dict(state["loss"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        for group, base in zip(self.optimizer.param_groups, self.scheduler.base_lrs):
            # the schedule of THIS config (train.max_steps may have grown since the checkpoint)
            group["lr"] = base * lr_factor(self.scheduler.last_epoch, self.config.optim, self.config.train.max_steps)
        self.scaler.load_state_dict(state["scaler"])
        ckpt.set_rng_state(state["rng"])
        self.sampler = SamplerState(**state["sampler"])
        self.step = int(state["step"])

    # ------------------------------------------------------------------ steps

    def train_step(self, batch: dict[str, Any]) -> float:
        """One optimisation step on this process's share of a global batch; returns the global-batch loss."""
        if not self._training_mode:  # once, and again after validation: walking a frozen trunk's ~300 modules
            self.module.train()      # on every step cost about 2 ms of a 55 ms step
            self._training_mode = True
        with self._autocast():
            loss = self.forward(to_device(with_video_lengths(batch, self.seq_lens["train"]), self.device))
        value = float(loss.detach())
        if not np.isfinite(value):
            last = self.run_dir / ckpt.LAST
            where = f"resume from {last} with --resume" if last.is_file() else "no checkpoint was saved yet"
            raise TrainingDiverged(f"the loss is {value} at step {self.step + 1}; stopped without saving ({where}, "
                                   f"e.g. with a lower optim.lr or optim.grad_clip)")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.optim.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            params = [p for group in self.optimizer.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(params, self.config.optim.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return value

    @torch.no_grad()
    def validate(self) -> float | None:
        """Mean loss over `train.val_batches` fixed global batches of the validation split (None without one)."""
        if self.data.val is None or self.config.train.val_batches == 0:
            return None
        self.module.eval()
        self._training_mode = False
        state = SamplerState(0, 0)
        seed = self.config.train.seed + 1
        loader = epoch_loader(self.data.val, self.data.collate, self.config.data.batch_size, seed, state,
                              self.config.data.workers, self.info)
        losses = []
        for batch in loader:
            with self._autocast():
                batch = with_video_lengths(batch, self.seq_lens["val"])
                losses.append(float(self.forward(to_device(batch, self.device))))
            if len(losses) == self.config.train.val_batches:
                break
        return float(np.mean(losses)) if losses else None

    # ------------------------------------------------------------------ the loop

    def _batches(self):
        """This process's batches from the saved position on, epoch after epoch; updates `self.sampler`."""
        cfg = self.config
        while True:
            loader = epoch_loader(self.data.train, self.data.collate, cfg.data.batch_size, cfg.train.seed,
                                  self.sampler, cfg.data.workers, self.info)
            for batch in loader:
                self.sampler.position += 1
                yield batch
            self.sampler = SamplerState(self.sampler.epoch + 1, 0)

    def _log_step(self, loss: float, log: ScalarLog | None, bar: tqdm, clock: dict[str, float]) -> None:
        """Progress bar, CSV/TensorBoard scalars and validation after a step, at their intervals."""
        cfg = self.config.train
        if self.step % cfg.log_every == 0 or self.step == cfg.max_steps:
            frames = (self.step - clock["step"]) * self.config.data.batch_size * self.config.data.num_steps
            fps = frames / max(time.perf_counter() - clock["time"], 1e-9)
            clock.update(step=self.step, time=time.perf_counter())
            bar.set_postfix(loss=f"{loss:.4f}", frames_s=f"{fps:.1f}")
            if log:
                log.write(self.step, {"train/loss": loss, "train/lr": float(self.scheduler.get_last_lr()[0]),
                                      "train/frames_per_s": fps})
        if self.step % cfg.val_every == 0 or self.step == cfg.max_steps:
            val = self.validate()
            if val is not None and log:
                log.write(self.step, {"val/loss": val})
        bar.update(1)

    def fit(self) -> Path:
        """Train until `train.max_steps`; returns the last checkpoint (`ckpt_{max_steps}.pt`).

        The first Ctrl-C finishes the step in progress, saves a checkpoint and raises KeyboardInterrupt; a second
        one interrupts at once without saving.
        """
        cfg = self.config.train
        main = self.info.is_main
        log = ScalarLog(self.run_dir, resume_step=self.step) if main else None
        if main:
            atomic_write_text(self.run_dir / "config.yaml", dump_config(self.config))
        bar = tqdm(total=cfg.max_steps, initial=self.step, disable=not (main and self.progress), unit="step",
                   desc=f"train {self.run_dir.name}", dynamic_ncols=True)
        clock = {"step": self.step, "time": time.perf_counter()}
        last = None
        try:
            with StopRequest() as stop:
                batches = self._batches()
                while self.step < cfg.max_steps:
                    loss = self.train_step(next(batches))
                    self.step += 1
                    self._log_step(loss, log, bar, clock)
                    saving = self.step % cfg.checkpoint_every == 0 or self.step == cfg.max_steps
                    last = self.save() if saving else None
                    if any_process(stop.requested, self.device):
                        last = last or self.save()
                        if main:
                            print(f"\nstopped at step {self.step}; saved {last} (continue with --resume)")
                        raise KeyboardInterrupt
        finally:
            bar.close()
            if log:
                log.close()
        return last if last is not None else self.save()
