"""Multitask losses, behind one registry: `build`, `available`, `options`.

Example:
    >>> from mtl_study import losses
    >>> loss = losses.build("random_weighted", ["ct", "nat"], generator=g, n=2)
    >>> total = loss({"ct": l_ct, "nat": l_nat})
"""

from __future__ import annotations

from mtl_study.losses._base import MultiTaskLoss
from mtl_study.losses.mean import MeanLoss
from mtl_study.losses.random_weighted import RandomWeightedLoss, random_task_weights
from mtl_study.losses.registry import available, build, options
from mtl_study.losses.uncertainty import UncertaintyLoss

__all__ = [
    "MeanLoss",
    "MultiTaskLoss",
    "RandomWeightedLoss",
    "UncertaintyLoss",
    "available",
    "build",
    "options",
    "random_task_weights",
]
