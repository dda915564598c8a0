"""Checkpoints load with weights_only=True and restore every RNG exactly."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from mtl_study.train.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state


def _draws(generator: torch.Generator) -> tuple:
    return (
        torch.rand(3).tolist(),
        np.random.rand(3).tolist(),
        random.random(),
        torch.rand(3, generator=generator).tolist(),
    )


def test_rng_states_round_trip_through_a_weights_only_checkpoint(tmp_path: Path) -> None:
    generator = torch.Generator().manual_seed(11)
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    np.random.randn()  # leaves a cached gaussian in NumPy's state
    path = save_checkpoint(tmp_path / "ck" / "checkpoint.pt", {"rng": rng_state(generator)})
    expected = _draws(generator)
    _draws(generator)
    set_rng_state(load_checkpoint(path)["rng"], generator)
    assert _draws(generator) == expected
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.pt"]  # no temp files left
