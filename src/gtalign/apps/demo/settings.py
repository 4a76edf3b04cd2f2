"""What the demo runs: the dataset, the shared training setup, the methods (rows), the protocols (columns).

Three presets: `full` (what `make demo` runs: the hard synthetic data), `easy` (the same budget on the original,
easy data, for comparison) and `quick` (a tiny version on easy data for CI, under 3 minutes). Every method gets
the same network, data, number of steps and evaluation; only the loss section differs. A YAML file
(configs/demo/*.yaml) can override any field of a preset.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from gtalign.errors import GtalignError
from gtalign.registry import check_choice
from gtalign.train.config import (
    AugmentConfig,
    Config,
    DataConfig,
    ModelConfig,
    OptimConfig,
    TrainConfig,
    config_from_dict,
)

UNTRAINED = "untrained"  # the row of the network at initialisation (no training step)
TRUNK = "trunk"  # the row of the frozen trunk's features, mean-pooled over space (no embedder at all)
TIME = "time"  # the row whose only feature is the frame's relative time t / (N - 1): what no-vision gets
POSE = "pose"  # the row whose features are the performer's true 3D joints: what a perfect pose reader would see


@dataclass(frozen=True)
class Method:
    """One row of the comparison: a display name, the `loss` section of the training config and, for a row whose
    network differs (CARL's temporal transformer), keys of its `model` section. `cost`: its run's time relative to
    the others' (only the order in which runs start depends on it: the longest first, so that no process is left
    with one long run at the end)."""

    key: str
    label: str
    loss: dict[str, Any]
    model: dict[str, Any] = field(default_factory=dict)
    cost: float = 1.0


@dataclass
class DatasetSettings:
    """Arguments of `gtalign.data.synth.generate_dataset` (the data issue's defaults in the full preset)."""

    num_classes: int = 4
    videos_per_class: int = 40
    min_frames: int = 40
    max_frames: int = 120
    image_size: int = 112
    seed: int = 0
    difficulty: str = "easy"   # "hard": timing a clock cannot predict, moving camera, light, distractor

    @property
    def folder_name(self) -> str:
        return (f"synth-c{self.num_classes}-v{self.videos_per_class}-f{self.min_frames}-{self.max_frames}"
                f"-px{self.image_size}-seed{self.seed}" + ("" if self.difficulty == "easy" else f"-{self.difficulty}"))


# The references, none trained (their loss section only names a valid loss). Every trained method must beat the
# clock, the trunk and the untrained network; the true pose is the other end: the synthetic generator's own 3D
# joints of the performer, which no method sees, show how well the raw pose, read perfectly whatever the viewpoint,
# light and background, does on each column (not a ceiling: a representation may also factor out each performer's
# style). Their runs took 0.1x (the time and the pose: no pixels), 1x (the trunk over every frame, which builds the
# shared feature cache) and 0.5x (evaluation only) of GTA's.
REFERENCES: tuple[Method, ...] = (
    Method(TIME, "Frame time only (no video)", {"name": "gta"}, cost=0.1),
    Method(POSE, "True 3D pose (no video)", {"name": "gta"}, cost=0.1),
    Method(TRUNK, "Trunk features (mean-pooled)", {"name": "gta"}),
    Method(UNTRAINED, "Untrained network", {"name": "gta"}, cost=0.5),
)

# The paper's rows (supplement Table 1), then soft-DTW and the methods that came after it (LAV, Drop-DTW, CARL's
# SCL, which trains on two clips of each video, alone and with CARL's temporal transformer); GTA last as "Ours".
BASELINES: tuple[Method, ...] = (
    Method("speednet", "SpeedNet", {"name": "speednet"}),
    Method("tcn", "TCN", {"name": "tcn"}),
    Method("sal", "SaL", {"name": "sal"}),
    Method("d3tw", "D3TW*", {"name": "d3tw"}),
    Method("tcc", "TCC", {"name": "tcc"}),
    Method("softdtw", "soft-DTW", {"name": "softdtw"}),
    Method("lav", "LAV", {"name": "lav"}),
    Method("dropdtw", "Drop-DTW", {"name": "dropdtw"}),
    # SCL trains on two clips of each video and CARL adds a transformer: their runs took 1.7x and 2.4x GTA's
    Method("scl", "SCL (CARL's loss)", {"name": "scl"}, cost=1.7),
    Method("carl", "CARL (SCL + transformer)", {"name": "scl"}, {"temporal_head": "transformer"}, cost=2.4),
    Method("gta", "GTA (ours)", {"name": "gta"}),
)

# The ablations GTA rests on: the relaxation of min, cycle-consistency, the smoothing temperature gamma_s.
ABLATIONS: tuple[Method, ...] = (
    Method("gta-min_gamma", "GTA, min^gamma", {"name": "gta", "relaxation": "min_gamma"}),
    Method("gta-hard", "GTA, hard min", {"name": "gta", "relaxation": "hard"}),
    Method("gta-nocycle", "GTA, no cycle", {"name": "gta", "cycle": False}),
    Method("gta-g0.01", "GTA, gamma_s=0.01", {"name": "gta", "gamma_s": 0.01}),
    Method("gta-g1", "GTA, gamma_s=1", {"name": "gta", "gamma_s": 1.0}),
)


def _training(image_size: int, max_steps: int, num_steps: int, frame_stride: int, channels: int) -> Config:
    """The training config shared by every method (`gtalign.train.config.Config`); each job adds its dataset, run
    folder, seed, loss and threads.

    The trunk is frozen and its features cached, so a step trains only the small 3D-conv embedder on top.
    """
    return Config(
        data=DataConfig(image_size=image_size, num_steps=num_steps, num_context=2, frame_stride=frame_stride,
                        batch_size=4, workers=0, val_split=None),
        augment=AugmentConfig(enabled=False),
        model=ModelConfig(trunk="mobilenet_v2", regime="frozen", cache_features=True, embedding_dim=128,
                          conv_channels=channels, fc_channels=channels * 2, dropout=0.1),
        optim=OptimConfig(name="adam", lr=1e-3, l2_weight=1e-5),
        train=TrainConfig(max_steps=max_steps, checkpoint_every=max(1, max_steps // 4), keep_checkpoints=1,
                          val_every=max_steps, val_batches=0, log_every=10, device="cpu"))


@dataclass
class DemoSettings:
    """Everything the demo's numbers depend on (hashed into the names of cached runs and results)."""

    name: str = "full"
    dataset: DatasetSettings = field(default_factory=DatasetSettings)
    training: Config = field(default_factory=lambda: _training(112, 1000, 20, 4, 32))
    methods: list[Method] = field(default_factory=lambda: list(BASELINES))
    ablations: list[Method] = field(default_factory=lambda: list(ABLATIONS))
    protocols: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        "svm": {"fractions": [0.1, 0.5, 1.0]},
        "fewshot": {"shots": [1, 5], "episodes": 20},
        "progression": {},
        "kendall": {"stride": 5},
        "retrieval": {"ks": [5, 10], "stride": 5},
        "alignment": {},
    })

    def method(self, key: str) -> Method:
        for m in [*self.methods, *self.ablations]:
            if m.key == key:
                return m
        raise GtalignError(f"method must be one of {[m.key for m in [*self.methods, *self.ablations]]}, got {key!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def quick_settings() -> DemoSettings:
    """The CI configuration: 3 classes x 8 videos x 24-40 frames at 112 px, 200 steps of a narrower embedder.

    (At 64 px the trunk's 4 x 4 maps left too little of the figure: 150 steps at 64 px learned nothing.)
    """
    return DemoSettings(
        name="quick",
        dataset=DatasetSettings(num_classes=3, videos_per_class=8, min_frames=24, max_frames=40, image_size=112),
        training=_training(112, 200, 16, 3, 32),
        protocols={"svm": {"fractions": [0.5, 1.0]}, "fewshot": {"shots": [1], "episodes": 5},
                   "progression": {}, "kendall": {"stride": 2}, "retrieval": {"ks": [5], "stride": 2},
                   "alignment": {}},
    )


def full_settings() -> DemoSettings:
    """What `make demo` runs: the full budget on the hard data, where neither a clock nor raw trunk features can
    align the videos (docs/synthetic.md)."""
    return DemoSettings(name="full", dataset=DatasetSettings(difficulty="hard"))


def easy_settings() -> DemoSettings:
    """The full budget on the original, easy data (mild time warps, static camera), kept for comparison."""
    return DemoSettings(name="easy")


PRESETS = {"full": full_settings, "easy": easy_settings, "quick": quick_settings}


def settings_hash(*parts: Any) -> str:
    """A short digest of JSON-able parts (names cached runs and results, so changed settings never mix)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _merge(base: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, f"{where}.{key}")
        else:
            out[key] = value
    return out


def _methods(items: Any, where: str) -> list[Method]:
    if not isinstance(items, list):
        raise GtalignError(f"{where} must be a list of {{key, label, loss}} mappings, got {items!r}")
    out = []
    for i, item in enumerate(items):
        keys = set(item) if isinstance(item, dict) else set()
        allowed = {"key", "label", "loss", "model", "cost"}
        if not {"key", "label", "loss"} <= keys <= allowed or "name" not in item["loss"]:
            raise GtalignError(f"{where}[{i}] must be a mapping with key, label and loss (with a loss name), and "
                               f"optionally model and cost, got {item!r}")
        cost = item.get("cost", 1.0)
        if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not cost > 0:
            raise GtalignError(f"{where}[{i}].cost must be a number > 0 (the run's time relative to the others), "
                               f"got {cost!r}")
        out.append(Method(str(item["key"]), str(item["label"]), dict(item["loss"]), dict(item.get("model", {})),
                          float(cost)))
    return out


def load_settings(preset: str = "full", path: str | Path | None = None) -> DemoSettings:
    """The preset `preset` ("full", "easy" or "quick"), with the fields of a YAML file `path` (if given) merged over it.

    The YAML file may set `dataset`, `training` (merged key by key), `protocols` (replaced per protocol),
    `methods` and `ablations` (lists replacing the preset's).
    """
    check_choice("preset", preset, sorted(PRESETS))
    settings = PRESETS[preset]()
    if path is None:
        return settings
    path = Path(path)
    if not path.is_file():
        raise GtalignError(f"demo config file not found: {path}")
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    known = {f.name for f in fields(DemoSettings)}
    if not isinstance(values, dict) or set(values) - known:
        raise GtalignError(f"{path}: expected a mapping with keys among {sorted(known)}, got "
                           f"{sorted(values) if isinstance(values, dict) else values!r}")
    if "name" in values:
        settings.name = str(values["name"])
    if "dataset" in values:
        try:
            settings.dataset = DatasetSettings(**(asdict(settings.dataset) | dict(values["dataset"])))
        except TypeError as e:
            raise GtalignError(f"{path}: dataset: {e}") from e
    if "training" in values:
        settings.training = config_from_dict(_merge(settings.training.to_dict(), dict(values["training"]),
                                                    "training"))
    if "protocols" in values:
        settings.protocols = settings.protocols | {k: dict(v or {}) for k, v in dict(values["protocols"]).items()}
    for key in ("methods", "ablations"):
        if key in values:
            setattr(settings, key, _methods(values[key], f"{path}: {key}"))
    return settings
