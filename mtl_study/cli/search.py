"""`mtl-study search`."""

from __future__ import annotations


def search() -> None:
    """Search a study's parameters."""
    raise NotImplementedError
