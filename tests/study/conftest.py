"""Fixtures of the orchestrator tests: a tiny preprocessed synthetic cohort, a local Ray."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mtl_study.study.cluster import loopback_env

loopback_env()

#: Cases, scan shape and crop of the tiny cohort: seconds per trial on one core.
TINY_CASES = 24
TINY_SHAPE = (32, 48, 48)
TINY_CROP = [24, 32, 32]


@pytest.fixture(scope="session")
def tiny_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 synthetic cases at 32x48x48, segmented and cropped to 24x32x32 (no features)."""
    from mtl_study.data.synth import generate_cohort
    from mtl_study.preprocess.pipeline import preprocess_cohort

    root = tmp_path_factory.mktemp("cohort") / "tiny"
    generate_cohort(root, n_cases=TINY_CASES, seed=0, shape=TINY_SHAPE)
    preprocess_cohort(
        root,
        segmenter="classical",
        feature_set=None,
        crop_shape=TINY_CROP,
        workers=1,
        progress=False,
    )
    return root


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One loopback-only Ray runtime per test module (2 CPUs)."""
    import ray

    from mtl_study.study.cluster import connect

    runtime = connect(num_cpus=2)
    yield
    runtime.shutdown()
    assert not ray.is_initialized()


def _tiny_study(**changes: Any) -> dict[str, Any]:
    study: dict[str, Any] = {
        "name": "tiny",
        "preprocess": {"segmenter": "classical", "crop_shape": TINY_CROP, "feature_set": None},
        "grid": [
            {"model": "covid_mtl", "loss": ["random_weighted", "mean"], "tasks": ["ct", "nat"]}
        ],
        "seeds": [0],
        "train": {"epochs": 2, "batch_size": 8},
        "resources": {"cpu": 1},
        "metric": "mean_auc",
    }
    study.update(changes)
    return study


def _mtimes(out: Path) -> dict[str, int]:
    return {p.parent.name: os.stat(p).st_mtime_ns for p in (out / "runs").glob("*/done.json")}


@pytest.fixture(scope="session")
def tiny_study() -> Callable[..., dict[str, Any]]:
    """Factory of a two-variant COVID-MTL loss study on the tiny cohort (2 epochs)."""
    return _tiny_study


@pytest.fixture(scope="session")
def done_mtimes() -> Callable[[Path], dict[str, int]]:
    """Trial id -> modification time of its done.json (a re-run rewrites it)."""
    return _mtimes
