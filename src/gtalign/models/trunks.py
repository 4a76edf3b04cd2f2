"""Backbone trunks: torchvision ImageNet classifiers cut at conv4 (stride 16).

| name          | cut after            | channels | map at 224 px |
| ------------- | -------------------- | -------- | ------------- |
| resnet50      | layer3 (conv4_x)     | 1024     | 14 x 14       |
| resnet18      | layer3 (conv4_x)     | 256      | 14 x 14       |
| mobilenet_v2  | features[13]         | 96       | 14 x 14       |

Weights are loaded into the WHOLE torchvision network with strict key matching before it is cut, so a state_dict
that does not fit fails loudly instead of leaving layers at random.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import torchvision
from torch import nn

from gtalign.errors import GtalignError, describe
from gtalign.models.weights import IMAGENET, imagenet_state_dict, load_state_dict_file
from gtalign.registry import Registry


def _cut_resnet(net: Any) -> nn.Module:  # a torchvision ResNet
    return nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3)


def _cut_mobilenet_v2(net: Any) -> nn.Module:  # a torchvision MobileNetV2
    return net.features[:14]


@dataclass(frozen=True)
class TrunkSpec:
    """How to build one trunk: the torchvision network, where to cut it, its output channels, ImageNet weights."""

    build: Callable[[], nn.Module]
    cut: Callable[[nn.Module], nn.Module]
    channels: int
    imagenet: Any  # a torchvision WeightsEnum member


TRUNKS: Registry = Registry("trunk", {
    "resnet50": TrunkSpec(torchvision.models.resnet50, _cut_resnet, 1024,
                          torchvision.models.ResNet50_Weights.IMAGENET1K_V1),
    "resnet18": TrunkSpec(torchvision.models.resnet18, _cut_resnet, 256,
                          torchvision.models.ResNet18_Weights.IMAGENET1K_V1),
    "mobilenet_v2": TrunkSpec(torchvision.models.mobilenet_v2, _cut_mobilenet_v2, 96,
                              torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1),
})


def available_trunks() -> list[str]:
    return sorted(TRUNKS)


def trunk_spec(name: str) -> TrunkSpec:
    return TRUNKS[name]


def load_classifier(name: str, weights: str | Path | None) -> nn.Module:
    """The full torchvision classifier `name` with `weights` (None: random, "imagenet", or a state_dict path)."""
    spec = trunk_spec(name)
    net = spec.build()
    if weights is None:
        return net
    state = imagenet_state_dict(name, spec.imagenet) if weights == IMAGENET else load_state_dict_file(weights)
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise GtalignError(
            f"weights {weights} do not fit torchvision {name}: {len(missing)} missing key(s) {missing[:3]}, "
            f"{len(unexpected)} unexpected key(s) {unexpected[:3]}; expected a torchvision {name} state_dict")
    return net


def build_trunk(name: str, weights: str | Path | None = None) -> tuple[nn.Module, int]:
    """The conv4 trunk of `name` and its number of output channels F.

    The trunk maps frames (N, 3, H, W), normalised with ImageNet mean and std, to maps (N, F, H/16, W/16).
    """
    spec = trunk_spec(name)
    return spec.cut(load_classifier(name, weights)), spec.channels



def check_frames(frames: torch.Tensor) -> None:
    """Refuse anything but a trunk's input: single normalised frames (N, 3, H, W)."""
    if frames.dim() != 4 or frames.shape[1] != 3:
        raise GtalignError(f"frames must have shape (N, 3, H, W), got {describe(frames)}")


def run_channels_last(trunk: nn.Module, frames: torch.Tensor) -> torch.Tensor:
    """A frozen trunk's maps (N, F, h, w) of frames (N, 3, H, W), run channels-last (MobileNetV2's conv4 trunk
    was 2x faster on CPU, equal to float rounding), returned contiguous."""
    return trunk(frames.contiguous(memory_format=torch.channels_last)).contiguous()
