"""Shared fixtures: where the real data in ../shared lies, and a quiet, loopback-only runtime."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Ray on these machines resolves 127.0.0.1 to the external interface unless told otherwise.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

SHARED_DATA = Path(
    os.environ.get("MTL_STUDY_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def covid_mtl_data() -> Path:
    """The real 1,329-case feature cohort in ../shared/data/covid_mtl_cohort."""
    folder = SHARED_DATA / "covid_mtl_cohort"
    if not (folder / "features.csv.gz").exists() or not (folder / "labels.csv").exists():
        pytest.skip(f"real COVID-MTL cohort not found under {folder} (needs ../shared/data)")
    return folder


@pytest.fixture(scope="session")
def lung1_ct() -> Path:
    """The real chest CT lung1 (NRRD) in ../shared/data/ct_samples."""
    path = SHARED_DATA / "ct_samples" / "lung1_image.nrrd"
    if not path.exists():
        pytest.skip(f"real chest CT not found at {path} (needs ../shared/data)")
    return path


@pytest.fixture
def one_thread():
    """Run the test's torch work on one thread: the test machines share two cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
