"""Orchestration overhead: the same 8 short trials by a plain Python loop vs `mtl-study run`.

Both sides run the trials one after another on one core (`max_concurrent: 1`), so the ratio of
wall times is what Ray Tune, checkpoint reporting and the results bookkeeping cost; the goal
is under 1.3 for trials of about a minute. Preprocessing is done before timing.

    python benchmarks/orchestration_overhead.py --epochs 6 --cases 60
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import torch

from mtl_study.data.synth import generate_cohort
from mtl_study.preprocess.pipeline import preprocess_cohort
from mtl_study.study.grid import expand
from mtl_study.study.runner import run_study
from mtl_study.study.spec import study_from_dict
from mtl_study.train.config import TrialSpec
from mtl_study.train.trial import run_trial

CROP = [24, 32, 32]


def study(epochs: int) -> dict:
    """8 trials: 4 losses/Shift3D settings x 2 seeds."""
    return {
        "name": "overhead",
        "preprocess": {"segmenter": "classical", "crop_shape": CROP, "feature_set": None},
        "grid": [
            {
                "model": "covid_mtl",
                "loss": ["random_weighted", "mean"],
                "shift3d": [True, False],
                "tasks": ["ct", "nat"],
            }
        ],
        "seeds": [0, 1],
        "train": {"epochs": epochs, "batch_size": 8},
        "resources": {"cpu": 1},
        "metric": "mean_auc",
        "max_concurrent": 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--data", type=Path, default=None, help="preprocessed cohort to reuse")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        cohort = args.data or Path(tmp) / "cohort"
        if args.data is None:
            generate_cohort(cohort, n_cases=args.cases, seed=0, shape=(32, 48, 48))
            preprocess_cohort(
                cohort,
                segmenter="classical",
                feature_set=None,
                crop_shape=CROP,
                workers=1,
                progress=False,
            )
        parsed = study_from_dict(study(args.epochs))
        plans = expand(parsed)
        start = time.perf_counter()
        for plan in plans:
            run_trial(TrialSpec.from_dict(plan.spec), cohort)
        plain = time.perf_counter() - start
        start = time.perf_counter()
        run_study(parsed, Path(tmp) / "out", data=cohort, progress=False, report=False)
        tuned = time.perf_counter() - start
    per_trial = plain / len(plans)
    print(f"trials: {len(plans)} x {args.epochs} epochs ({per_trial:.1f} s per trial, plain)")
    print(f"plain loop: {plain:.1f} s   mtl-study on local Ray: {tuned:.1f} s")
    print(f"overhead ratio: {tuned / plain:.2f} (goal < 1.3 for ~60 s trials)")


if __name__ == "__main__":
    main()
