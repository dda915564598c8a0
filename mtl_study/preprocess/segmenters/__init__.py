"""Lung segmenters, by name: `classical` (SPEC 2.3) and `refined` (SPEC 2.4)."""

from __future__ import annotations

from typing import Any

from mtl_study.preprocess._registry import Registry
from mtl_study.preprocess.segmenters._base import AIR_THRESHOLD, Segmenter
from mtl_study.preprocess.segmenters.classical import ClassicalSegmenter
from mtl_study.preprocess.segmenters.refined import RefinedSegmenter

__all__ = [
    "AIR_THRESHOLD",
    "SEGMENTERS",
    "ClassicalSegmenter",
    "RefinedSegmenter",
    "Segmenter",
    "available",
    "build",
]

SEGMENTERS: Registry[type[Segmenter]] = Registry("segmenter")
SEGMENTERS.register("classical", ClassicalSegmenter)
SEGMENTERS.register("refined", RefinedSegmenter)


def build(name: str, **options: Any) -> Segmenter:
    """The segmenter registered as `name`, constructed with `options`."""
    return SEGMENTERS.get(name)(**options)


def available() -> list[str]:
    """Registered segmenter names (CLI choices and `--help`)."""
    return SEGMENTERS.names()
