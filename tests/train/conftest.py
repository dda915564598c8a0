"""Tiny cohorts for trainer tests: written through the real cohort and store functions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from mtl_study.data.cohort import save_cohort
from mtl_study.data.importers import import_covid_mtl
from mtl_study.data.splits import assign_splits
from mtl_study.preprocess.store import write_case

#: Stored shape of the tiny volumes (D, H, W): big enough for SqueezeNet3D's four pools.
TINY_SHAPE = (16, 24, 24)
N_FEATURES = 6


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def tiny_volume(ct: int, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Lungs-only volume whose central blob is bright for positives (bigger when severe)."""
    volume = np.zeros(TINY_SHAPE, dtype=np.uint16)
    volume[2:14, 3:21, 3:21] = rng.integers(150, 350, size=(12, 18, 18))
    if ct:
        r = 3 + 2 * (severity == 2)
        volume[8 - r : 8 + r, 12 - r : 12 + r, 12 - r : 12 + r] = 1400
    return volume


def write_tiny_cohort(
    root: Path, n_cases: int = 16, seed: int = 0, with_volumes: bool = True
) -> Path:
    """Cohort of `n_cases` with labels, features and (optionally) preprocessed volumes.

    Cases c00.. get a 25 % test split and 3 folds; the features carry the ct signal.
    """
    rng = np.random.default_rng(seed)
    ct = np.array([i % 2 for i in range(n_cases)])
    severity = np.where(ct == 1, 1 + (np.arange(n_cases) // 2) % 2, 0)
    ids = [f"c{i:02d}" for i in range(n_cases)]
    manifest = pd.DataFrame(
        {"case_id": ids, "ct": ct, "nat": ct, "severity": severity, "age": 50.0, "gender": "F"}
    )
    manifest["hospital"] = "H"
    manifest = assign_splits(manifest, test_size=0.25, stratify="ct", n_folds=3, seed=seed)
    features = pd.DataFrame(
        rng.normal(size=(n_cases, N_FEATURES)) * 10.0 ** np.arange(N_FEATURES),
        columns=[f"f{i}" for i in range(N_FEATURES)],
    )
    features["f0"] += 3.0 * ct
    features.insert(0, "case_id", ids)
    save_cohort(root, manifest, features)
    if with_volumes:
        for case_id, c, s in zip(ids, ct, severity, strict=True):
            write_case(root, case_id, tiny_volume(c, s, rng), np.ones(TINY_SHAPE, bool), {})
    return root


@pytest.fixture
def tiny_cohort(tmp_path: Path) -> Path:
    return write_tiny_cohort(tmp_path / "cohort")


@pytest.fixture(scope="session")
def real_cohort(covid_mtl_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real 1,329-case feature cohort, imported (70/30 stratified by nat, 5 folds)."""
    root = tmp_path_factory.mktemp("real") / "covid_mtl"
    import_covid_mtl(covid_mtl_data / "features.csv.gz", covid_mtl_data / "labels.csv", root)
    return root
