"""`mtl-study run`."""

from __future__ import annotations


def run() -> None:
    """Run a study."""
    raise NotImplementedError
