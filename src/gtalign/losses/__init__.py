"""Losses of GTA and of the baselines it is compared with, behind one registry.

``create(name, **kwargs)`` builds a loss; ``available()`` lists the names. Every loss is an ``nn.Module`` with
``forward(embs (B, T, D), lengths=None, **extra) -> scalar``; its class attributes ``needs`` / ``uses`` name the
extras it requires / accepts (docs/losses.md).
"""
from gtalign.losses.base import FrameLoss
from gtalign.losses.d3tw import D3TWLoss
from gtalign.losses.dropdtw import DropDTWLoss
from gtalign.losses.gta import GTALoss
from gtalign.losses.lav import LAVLoss
from gtalign.losses.registry import available, create, loss_class, register
from gtalign.losses.sal import ShuffleLearnLoss
from gtalign.losses.scl import SCLLoss
from gtalign.losses.softdtw import SoftDTWLoss
from gtalign.losses.speednet import SpeedNetLoss
from gtalign.losses.tcc import TCCLoss
from gtalign.losses.tcn import TCNLoss

__all__ = [
    "D3TWLoss", "DropDTWLoss", "FrameLoss", "GTALoss", "LAVLoss", "SCLLoss", "ShuffleLearnLoss", "SoftDTWLoss",
    "SpeedNetLoss", "TCCLoss", "TCNLoss", "available", "create", "loss_class", "register",
]
