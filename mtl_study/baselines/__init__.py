"""Classical baselines on the radiomics features: registered names -> per-task classifiers."""

from __future__ import annotations

import difflib
from typing import Any

from mtl_study.baselines._base import TaskBaseline
from mtl_study.baselines.lightgbm import LightGBMBaseline
from mtl_study.baselines.random_forest import RandomForestBaseline

_REGISTRY: dict[str, type[TaskBaseline]] = {
    "random_forest": RandomForestBaseline,
    "lightgbm": LightGBMBaseline,
}

__all__ = ["LightGBMBaseline", "RandomForestBaseline", "TaskBaseline", "available", "build"]


def available() -> list[str]:
    """Registered baseline names."""
    return sorted(_REGISTRY)


def build(name: str, **options: Any) -> TaskBaseline:
    """Instantiate a baseline by name; unknown names fail with the valid ones and the nearest."""
    if name not in _REGISTRY:
        near = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise KeyError(f"unknown baseline {name!r}; valid names: {available()}.{hint}")
    return _REGISTRY[name](**options)
