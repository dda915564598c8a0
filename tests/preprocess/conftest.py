"""Fixtures for preprocessing tests: one small synthetic cohort, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def synthetic_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight 40 x 64 x 64 synthetic cases with lung and lesion masks (generated once)."""
    from mtl_study.data.synth import generate_cohort

    root = tmp_path_factory.mktemp("synth") / "cohort"
    return generate_cohort(root, n_cases=8, seed=1, shape=(40, 64, 64), n_folds=2)


@pytest.fixture
def synthetic_cohort(synthetic_source: Path, tmp_path: Path) -> Path:
    """A private copy of the synthetic cohort that a test may preprocess or damage."""
    return Path(shutil.copytree(synthetic_source, tmp_path / "cohort"))
