"""`mtl-study segment`: one scan on its own."""

from __future__ import annotations


def segment() -> None:
    """Segment the lungs of one scan."""
    raise NotImplementedError
