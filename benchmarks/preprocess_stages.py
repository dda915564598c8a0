"""Per-case seconds by stage (read, resample, segment, refine, crop, features, write).

    python -m benchmarks.preprocess_stages --cases 3 --feature-set covid-mtl-375 [--lung1 PATH]

Runs `process_case` in this process (no Dask) on synthetic cases and, when found, on the
real chest CT lung1 (../shared/data/ct_samples/lung1_image.nrrd).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from mtl_study.data.cohort import load_cohort
from mtl_study.data.synth import generate_cohort
from mtl_study.preprocess.case import STAGES, CaseInput, Settings, process_case

LUNG1 = Path(__file__).resolve().parents[2] / "shared/data/ct_samples/lung1_image.nrrd"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3)
    parser.add_argument("--feature-set", default="covid-mtl-375", help="or none, firstorder")
    parser.add_argument("--lung1", type=Path, default=LUNG1)
    args = parser.parse_args()
    feature_set = None if args.feature_set == "none" else args.feature_set
    rows = []
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(1):
        root = generate_cohort(Path(tmp) / "synth", n_cases=max(args.cases, 8), n_folds=2)
        cohort = load_cohort(root)
        small = Settings("refined", feature_set, (64, 96, 96))
        for cid in cohort.case_ids[: args.cases]:
            case = CaseInput(cid, cohort.image_path(cid), cohort.mask_path(cid))
            result = process_case(root, case, small)
            rows.append({"data": "synthetic 64x96x96", **result.timings})
        if args.lung1.exists():
            label = args.lung1.parent / "lung1_label.nrrd"
            result = process_case(
                Path(tmp) / "lung1",
                CaseInput("lung1", args.lung1, None, label),
                Settings("refined", feature_set, (200, 250, 250)),
            )
            assert result.ok, result.error
            rows.append({"data": "lung1 512x512x48", **result.timings})
    table = pd.DataFrame(rows).groupby("data")[list(STAGES)].mean()
    table["total"] = table.sum(axis=1)
    print(table.round(2).to_string())


if __name__ == "__main__":
    main()
