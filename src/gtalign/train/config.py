"""Training configuration: YAML files with `section.key=value` overrides, checked against a schema.

Sections and their keys are the dataclasses below; an unknown key or a value of the wrong type is a GtalignError
naming the key, the expected type and the value given. The `loss` section holds `name` plus the keyword arguments
of `gtalign.losses.create(name, ...)`, checked by creating the loss.
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from gtalign.errors import GtalignError


@dataclass
class DataConfig:
    """The `data` section: which dataset, how clips are sampled and batched."""

    root: str | None = None          # dataset path (manifest, folder, TFRecords, ...), see gtalign.data.open_source
    kind: str = "auto"
    train_split: str | None = "train"
    val_split: str | None = "val"    # null: no validation loss
    image_size: int = 224
    num_steps: int = 20              # T, frames per clip
    num_context: int = 2             # k, context frames before each step
    frame_stride: int = 15           # frames between context frames
    sampling: str = "random"         # how the T steps are drawn: random, uniform, stride (ClipSampler modes)
    step_stride: int = 1             # frames between steps in `stride` sampling (SpeedNet's normal speed)
    batch_size: int = 4              # videos per step, over all processes
    views_per_video: int | None = None  # clips drawn from each video per step; null: what the loss needs (SCL: 2)
    workers: int = 2                 # data-loading processes per training process


@dataclass
class AugmentConfig:
    """The `augment` section: the per-video augmentations of training clips."""

    enabled: bool = True
    flip: bool = True
    brightness: float = 32.0 / 255.0            # max delta
    contrast: list[float] = field(default_factory=lambda: [0.5, 1.5])
    crop_scale: list[float] | None = None       # random resized crop area range; null: none (as published)


@dataclass
class ModelConfig:
    """The `model` section: the trunk, what of it is trained, and the embedder on top."""

    trunk: str = "resnet50"
    weights: str | None = "imagenet"  # null (random), imagenet, or a torchvision state_dict path
    regime: str = "only_bn"           # scratch, train_all, only_bn, frozen
    embedding_dim: int = 128
    conv_channels: int = 512
    num_conv: int = 2
    fc_channels: int = 512
    num_fc: int = 2
    dropout: float = 0.1
    temporal_head: str = "none"       # none, transformer (CARL's temporal transformer over each clip's frames)
    cache_features: bool = False      # frozen trunk only: compute trunk features once and train on them
    cache_dir: str | None = None      # default: {train.log_dir}/../feature_cache


@dataclass
class OptimConfig:
    """The `optim` section: the optimiser, its L2 penalty and learning-rate schedule."""

    name: str = "adam"                # adam, adamw, sgd
    lr: float = 1e-4
    l2_weight: float = 1e-5           # L2 penalty l2_weight * sum(w^2) on the embedder's weights
    schedule: str = "constant"        # constant, cosine, step
    warmup_steps: int = 0
    step_size: int = 50000            # step schedule: lr *= gamma every step_size steps
    gamma: float = 0.1
    momentum: float = 0.9             # sgd only
    grad_clip: float | None = 10.0    # max global gradient norm; null: no clipping


@dataclass
class TrainConfig:
    """The `train` section: steps, the run folder, seeds, and how often to check, log and save."""

    max_steps: int = 150000
    log_dir: str = "runs/gta"         # run folder: checkpoints, config.yaml, log.csv, TensorBoard events
    seed: int = 0
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3         # ckpt_{step}.pt files kept besides last.pt
    val_every: int = 1000
    val_batches: int = 10
    log_every: int = 10
    amp: bool = True                  # mixed precision (bfloat16/float16 autocast) on GPU; ignored on CPU
    device: str = "auto"              # auto, cpu, cuda, cuda:1, ...
    threads: int | None = None        # torch CPU threads per process; null: torch's default


@dataclass
class Config:
    """A whole training configuration, one dataclass per YAML section."""

    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: dict[str, Any] = field(default_factory=lambda: {"name": "gta"})
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def loss_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in self.loss.items() if k != "name"}


SECTIONS = {f.name: f for f in dataclasses.fields(Config)}


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """`value` checked against `annotation` (int, float, bool, str, list[float], X | None, dict)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                return _coerce(value, option, where)
            except GtalignError as e:
                errors.append(e)
        raise errors[0]
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise GtalignError(f"{where} must be a list of {_type_name(typing.get_args(annotation)[0])}, "
                               f"got {value!r}")
        return [_coerce(v, typing.get_args(annotation)[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if annotation is float and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return float(value)  # YAML reads 1e-4 (no dot) as a string
        except ValueError:
            pass
    elif annotation is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif annotation is str and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    elif annotation is bool and isinstance(value, bool):
        return value
    raise GtalignError(f"{where} must be {_type_name(annotation)}, got {value!r} ({type(value).__name__})")


def _unknown(key: str, known: list[str], section: str | None) -> GtalignError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    what = f"key '{section}.{key}'" if section else f"section {key!r}"
    return GtalignError(f"unknown config {what}{hint} (expected one of {sorted(known)})")


def _section(name: str, values: Any) -> Any:
    if not isinstance(values, dict):
        raise GtalignError(f"config section {name!r} must be a mapping, got {values!r}")
    if name == "loss":
        loss = {"name": "gta"} | values
        if not isinstance(loss["name"], str):
            raise GtalignError(f"loss.name must be str, got {loss['name']!r}")
        return loss
    cls = typing.get_type_hints(Config)[name]
    hints = typing.get_type_hints(cls)
    for key in values:
        if key not in hints:
            raise _unknown(key, list(hints), name)
    return cls(**{key: _coerce(v, hints[key], f"{name}.{key}") for key, v in values.items()})


def config_from_dict(values: dict[str, Any]) -> Config:
    """A `Config` from nested dicts (sections missing from `values` keep their defaults)."""
    if not isinstance(values, dict):
        raise GtalignError(f"a config must be a mapping of sections, got {type(values).__name__}")
    for name in values:
        if name not in SECTIONS:
            raise _unknown(name, list(SECTIONS), None)
    config = Config(**{name: _section(name, v) for name, v in values.items()})
    check_values(config)
    return config


def check_values(config: Config) -> None:
    """Range checks that the types alone do not express."""
    positive = {"data.image_size": config.data.image_size, "data.num_steps": config.data.num_steps,
                "data.frame_stride": config.data.frame_stride,
                "data.step_stride": config.data.step_stride, "data.batch_size": config.data.batch_size,
                "train.max_steps": config.train.max_steps, "train.checkpoint_every": config.train.checkpoint_every,
                "train.val_every": config.train.val_every, "train.log_every": config.train.log_every,
                "optim.lr": config.optim.lr}
    nonnegative = {"data.num_context": config.data.num_context, "data.workers": config.data.workers,
                   "optim.l2_weight": config.optim.l2_weight, "optim.warmup_steps": config.optim.warmup_steps,
                   "train.val_batches": config.train.val_batches,
                   "train.keep_checkpoints": config.train.keep_checkpoints}
    if config.data.views_per_video is not None:
        positive["data.views_per_video"] = config.data.views_per_video
    for key, value in positive.items():
        if value <= 0:
            raise GtalignError(f"{key} must be > 0, got {value}")
    for key, value in nonnegative.items():
        if value < 0:
            raise GtalignError(f"{key} must be >= 0, got {value}")
    if not 0.0 <= config.model.dropout < 1.0:
        raise GtalignError(f"model.dropout must be in [0, 1), got {config.model.dropout}")
    if len(config.augment.contrast) != 2 or not 0 <= config.augment.contrast[0] <= config.augment.contrast[1]:
        raise GtalignError(f"augment.contrast must be [low, high] with 0 <= low <= high, got {config.augment.contrast}")
    if config.model.cache_features and config.model.regime != "frozen":
        raise GtalignError(f"model.cache_features needs model.regime=frozen (a trained trunk's features change), "
                           f"got regime {config.model.regime!r}")


def parse_override(text: str) -> tuple[list[str], Any]:
    """`section.key=value` -> (["section", "key"], value parsed as YAML)."""
    if "=" not in text:
        raise GtalignError(f"override {text!r} must look like section.key=value (e.g. train.max_steps=100)")
    key, raw = text.split("=", 1)
    path = key.strip().split(".")
    if len(path) != 2 or not all(path):
        raise GtalignError(f"override key {key!r} must be section.key (e.g. data.root), got {len(path)} part(s)")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return path, value


def apply_overrides(values: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of the nested dict `values` with `section.key=value` overrides applied."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in values.items()}
    for text in overrides:
        (section, key), value = parse_override(text)
        if section not in SECTIONS:
            raise _unknown(section, list(SECTIONS), None)
        if not isinstance(out.setdefault(section, {}), dict):
            raise GtalignError(f"override {text!r}: config section {section!r} is {out[section]!r}, not a mapping")
        out[section][key] = value
    return out


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> Config:
    """Read a YAML config (or start from the defaults when `path` is None) and apply overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise GtalignError(f"config file not found: {path}")
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise GtalignError(f"config file {path} is not valid YAML: {e}") from e
        if not isinstance(values, dict):
            raise GtalignError(f"config file {path} must be a mapping of sections (data:, model:, train:, ...), "
                               f"got a {type(values).__name__} at the top level")
        for name, section in values.items():
            if name in SECTIONS and section is not None and not isinstance(section, dict):
                raise GtalignError(f"config file {path}: section {name!r} must be a mapping of keys, got "
                                   f"{section!r}")
        values = {k: ({} if v is None else v) for k, v in values.items()}
    return config_from_dict(apply_overrides(values, list(overrides)))


def dump_config(config: Config) -> str:
    """The resolved config as YAML text (what `load_config` reads back to the same Config)."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
