"""ASHA vs full budget on the `dirichlet_n` search: compute saved, does the best agree?

Runs the same Optuna search (random sampler with a fixed seed, so both see the same
configurations) twice on a small synthetic cohort: every trial to the full budget, and with
Tune's ASHA stopping weak trials early. Prints the epochs trained, wall times and the best n.

    python benchmarks/orchestration_asha.py --trials 8 --epochs 4 --folds 2
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import pandas as pd

from mtl_study.data.synth import generate_cohort
from mtl_study.preprocess.pipeline import preprocess_cohort
from mtl_study.study.search import run_search
from mtl_study.study.spec import study_from_dict

CROP = [24, 32, 32]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--cases", type=int, default=30)
    args = parser.parse_args()
    study = study_from_dict(
        {
            "name": "asha",
            "preprocess": {"segmenter": "classical", "crop_shape": CROP, "feature_set": None},
            "grid": [{"model": "covid_mtl", "loss": "random_weighted", "tasks": ["ct", "nat"]}],
            "train": {"epochs": args.epochs, "batch_size": 8},
            "resources": {"cpu": 1},
            "metric": "mean_auc",
            "evaluate": "cv",
            "folds": args.folds,
        }
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cohort = Path(tmp) / "cohort"
        generate_cohort(cohort, n_cases=args.cases, seed=0, shape=(32, 48, 48))
        preprocess_cohort(
            cohort,
            segmenter="classical",
            feature_set=None,
            crop_shape=CROP,
            workers=1,
            progress=False,
        )
        for pruner in ("none", "asha"):
            out = Path(tmp) / pruner
            start = time.perf_counter()
            run_search(
                study,
                ["dirichlet_n"],
                n_trials=args.trials,
                out=out,
                sampler="random",
                pruner=pruner,
                data=cohort,
                progress=False,
                report=False,
                final=False,
            )
            wall = time.perf_counter() - start
            # every epoch trained, pruned ones included, is in the trial's checkpoint history
            epochs = sum(
                len(json.loads(p.read_text(encoding="utf-8")))
                for p in (out / "checkpoints").glob("search-*/history.json")
            )
            search = pd.read_parquet(out / "search.parquet")
            done = search[search["state"] == "COMPLETE"]
            best = done.loc[done["value"].idxmax()] if len(done) else None
            rows.append(
                {
                    "pruner": pruner,
                    "wall_s": round(wall, 1),
                    "epochs_trained": epochs,
                    "complete": len(done),
                    "pruned": int((search["state"] == "PRUNED").sum()),
                    "best_n": None if best is None else int(best["param_dirichlet_n"]),
                    "best_cv": None if best is None else round(float(best["value"]), 3),
                }
            )
    table = pd.DataFrame(rows).set_index("pruner")
    print(table.to_string())
    full, asha = table.loc["none"], table.loc["asha"]
    print(
        f"compute saved by ASHA: {1 - asha['epochs_trained'] / full['epochs_trained']:.0%} of "
        f"epochs, {1 - asha['wall_s'] / full['wall_s']:.0%} of wall time; "
        f"best n agrees: {asha['best_n'] == full['best_n']}"
    )


if __name__ == "__main__":
    main()
