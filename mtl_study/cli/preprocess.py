"""`mtl-study preprocess`."""

from __future__ import annotations


def preprocess() -> None:
    """Preprocess a cohort."""
    raise NotImplementedError
