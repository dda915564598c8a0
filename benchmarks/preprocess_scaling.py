"""Dask scaling of `preprocess_cohort`: cases per minute with 1 worker vs all cores.

    python -m benchmarks.preprocess_scaling --cases 8 --feature-set firstorder

Both runs preprocess fresh copies of the same synthetic cohort; cluster start-up is included
(what a user waits for).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from mtl_study.data.synth import generate_cohort
from mtl_study.preprocess.pipeline import preprocess_cohort


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--feature-set", default="firstorder", help="or none, covid-mtl-375")
    parser.add_argument("--crop", type=int, nargs=3, default=(64, 96, 96))
    args = parser.parse_args()
    feature_set = None if args.feature_set == "none" else args.feature_set
    with tempfile.TemporaryDirectory() as tmp:
        source = generate_cohort(Path(tmp) / "source", n_cases=args.cases, seed=0, n_folds=2)
        rates = {}
        for workers in (1, args.workers):
            root = Path(shutil.copytree(source, Path(tmp) / f"w{workers}"))
            summary = preprocess_cohort(
                root,
                feature_set=feature_set,
                crop_shape=args.crop,
                workers=workers,
                progress=False,
            )
            assert summary.failures.empty, summary.failures
            rates[workers] = 60 * len(summary.processed) / summary.seconds
            print(f"{workers} worker(s): {summary.seconds:.1f} s, {rates[workers]:.1f} cases/min")
        ratio = rates[args.workers] / rates[1]
        print(f"speed-up {args.workers} workers vs 1: {ratio:.2f}x")


if __name__ == "__main__":
    main()
