"""Real tiny studies (Ray Tune, the real trainer) whose results directories the tests read.

`study_results` (default run, under a minute): a feature-only cohort of 40 cases with eight
feature columns derived from the labels; COVID-MTL (AFNN trunk) with two losses, RF and
LightGBM, two seeds, and a variant whose trials fail. `volume_results` (marked long):
synthetic CT phantoms segmented and cropped, COVID-MTL loss x Shift3D, feature baselines and
transfer.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtl_study.study.cluster import loopback_env

loopback_env()

CROP = [24, 32, 32]
SEEDS = [0, 1]
FEATURE_CASES = 40


def _features(manifest: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Eight features: some shifted by a label (informative), some pure noise."""
    rng = np.random.default_rng(seed)
    n = len(manifest)
    cols = {"case_id": manifest["case_id"].astype(str).to_numpy()}
    for i, task in enumerate(("ct", "nat", "severity")):
        label = manifest[task].to_numpy(float)
        cols[f"signal_{task}"] = label * (1.5 + i) + rng.normal(0, 1, n)
    for i in range(5):
        cols[f"noise_{i}"] = rng.normal(0, 1, n)
    return pd.DataFrame(cols)


@pytest.fixture(scope="session")
def feature_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 cases with labels, age, gender and eight feature columns; no scans."""
    from mtl_study.data.cohort import save_cohort

    rng = np.random.default_rng(0)
    severity = rng.integers(0, 3, FEATURE_CASES)
    nat = (severity > 0).astype(int)
    ct = np.where(rng.random(FEATURE_CASES) < 0.85, nat, 1 - nat)
    manifest = pd.DataFrame(
        {
            "case_id": [f"case{i:03d}" for i in range(FEATURE_CASES)],
            "ct": ct,
            "nat": nat,
            "severity": severity,
            "age": rng.uniform(20, 90, FEATURE_CASES).round(),
            "gender": rng.choice(["M", "F"], FEATURE_CASES),
            "hospital": "synthetic",
        }
    )
    root = tmp_path_factory.mktemp("feature-cohort") / "features"
    save_cohort(root, manifest, features=_features(manifest), meta={"name": "report-features"})
    return root


def _feature_study() -> dict:
    return {
        "name": "report-features",
        "inputs": "features",
        "grid": [
            {
                "model": "covid_mtl",
                "loss": ["random_weighted", "mean"],
                "tasks": ["ct", "nat"],
                "inputs": "features",
            },
            {
                "model": ["random_forest", "lightgbm"],
                "inputs": "features",
                "tasks": ["ct", "nat", "severity"],
                "model_options": {"n_estimators": 50},
                "train": {"epochs": 1},
            },
            {
                "model": "covid_mtl",
                "name": "crashes",
                "loss": "mean",
                "tasks": ["ct", "nat"],
                "inputs": "features",
                "model_options": {"dropout": "high"},
            },
        ],
        "seeds": SEEDS,
        "train": {"epochs": 4, "batch_size": 8, "augment": False},
        "resources": {"cpu": 1},
        "metric": "mean_auc",
        "evaluate": "test",
        "max_failures": 0,
    }


def _run(study: dict, out: Path, cohort: Path) -> Path:
    from mtl_study.study.cluster import connect
    from mtl_study.study.runner import run_study
    from mtl_study.study.spec import study_from_dict

    runtime = connect(num_cpus=2)
    try:
        run_study(study_from_dict(study), out, data=cohort, progress=False, report=False)
    finally:
        runtime.shutdown()
    return out


@pytest.fixture(scope="session")
def study_results(tmp_path_factory: pytest.TempPathFactory, feature_cohort: Path) -> Path:
    """Results directory of the real feature-only study (no report written).

    Its "crashes" trials end with status ERROR (an invalid model option): real failed trials
    for the partial-results tests.
    """
    return _run(
        _feature_study(), tmp_path_factory.mktemp("feature-results") / "study", feature_cohort
    )


@pytest.fixture(scope="session")
def volume_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 synthetic cases, preprocessed (classical segmenter), with eight feature columns."""
    from mtl_study.data.cohort import load_cohort, save_cohort
    from mtl_study.data.synth import generate_cohort
    from mtl_study.preprocess.pipeline import preprocess_cohort

    root = tmp_path_factory.mktemp("volume-cohort") / "tiny"
    generate_cohort(root, n_cases=24, seed=0, shape=(32, 48, 48))
    preprocess_cohort(
        root, segmenter="classical", feature_set=None, crop_shape=CROP, workers=1, progress=False
    )
    cohort = load_cohort(root)
    save_cohort(root, cohort.manifest, features=_features(cohort.manifest), meta=cohort.meta)
    return root


def _volume_study() -> dict:
    return {
        "name": "report-volume",
        "preprocess": {"segmenter": "classical", "crop_shape": CROP, "feature_set": None},
        "grid": [
            {
                "model": "covid_mtl",
                "loss": ["random_weighted", "mean"],
                "shift3d": [True, False],
                "tasks": ["ct", "nat"],
                "inputs": "volume",
            },
            {
                "model": ["random_forest", "lightgbm"],
                "inputs": "features",
                "tasks": ["ct", "nat", "severity"],
                "train": {"epochs": 1},
            },
        ],
        "transfer": {
            "source": {"loss": "random_weighted", "shift3d": True},
            "tasks": ["severity"],
            "keep_shift3d": [True, False],
            "epochs": 1,
        },
        "seeds": SEEDS,
        "train": {"epochs": 3, "batch_size": 8},
        "resources": {"cpu": 1},
        "metric": "mean_auc",
        "evaluate": "test",
    }


@pytest.fixture(scope="session")
def volume_results(tmp_path_factory: pytest.TempPathFactory, volume_cohort: Path) -> Path:
    """Results directory of the real volume study (minutes: use only in long tests)."""
    return _run(_volume_study(), tmp_path_factory.mktemp("volume-results") / "study", volume_cohort)


@pytest.fixture
def results_copy(study_results: Path, tmp_path: Path) -> Callable[[], Path]:
    """A private copy of the study results that a test may truncate or corrupt."""

    def copy() -> Path:
        target = tmp_path / "results"
        shutil.copytree(study_results, target, ignore=shutil.ignore_patterns("checkpoints", "ray"))
        return target

    return copy
