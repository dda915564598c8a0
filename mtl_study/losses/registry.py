"""The loss registry: names study files use -> multitask loss classes and their options."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from mtl_study.losses._base import MultiTaskLoss
from mtl_study.losses.mean import MeanLoss
from mtl_study.losses.random_weighted import RandomWeightedLoss, TwoTaskDraw
from mtl_study.losses.uncertainty import UncertaintyLoss
from mtl_study.models.registry import Option, Registry

LOSSES = Registry("loss")
LOSSES.register("mean", MeanLoss, {}, "mean of the task losses, (1/K) sum L_k")
LOSSES.register(
    "uncertainty",
    UncertaintyLoss,
    {"init_log_var": Option(0.0, float, "starting log-variance s_k of every task")},
    "learned uncertainty weights (Kendall et al. 2018): mean exp(-s_k) L_k + s_k",
)
LOSSES.register(
    "random_weighted",
    RandomWeightedLoss,
    {
        "n": Option(2, int, "Dirichlet draws averaged per iteration (larger: closer to mean)"),
        "two_task": Option(
            TwoTaskDraw.DIRICHLET.value,
            str,
            "K = 2: p from the n Dirichlet draws, or one uniform draw",
            tuple(d.value for d in TwoTaskDraw),
        ),
    },
    "random Dirichlet task weights every iteration (COVID-MTL)",
)


def available() -> list[str]:
    """Registered loss names."""
    return LOSSES.names()


def options(name: str) -> dict[str, Option]:
    """Option name -> `Option` (default, type, help, choices) of loss `name`."""
    return dict(LOSSES.entry(name).options)


def build(
    name: str, tasks: Iterable[str], generator: torch.Generator | None = None, **options: Any
) -> MultiTaskLoss:
    """The multitask loss `name` over `tasks`; random draws come from `generator`.

    Raises:
        RegistryError: unknown name or option, or a value of the wrong type.
    """
    resolved = LOSSES.resolve(name, options)
    return LOSSES.entry(name).factory(tuple(tasks), generator, **resolved)
