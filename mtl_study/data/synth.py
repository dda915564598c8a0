"""The synthetic cohort: chest-CT phantoms with labels shaped like the real COVID-MTL cohort.

Classes and their shares follow the published cohort (1,329 cases): control 309, suspected
259 (CT positive, NAT negative), mild 22 (NAT positive, CT negative), regular 540, severe or
critically ill 199. Lesion burden grows with the class but the distributions overlap, so the
tasks are learnable without being trivial.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mtl_study.data.cohort import save_cohort
from mtl_study.data.phantom import LesionProfile, make_phantom
from mtl_study.io.scan import Scan, to_shifted_hu

DEFAULT_SHAPE: tuple[int, int, int] = (64, 96, 96)
DEFAULT_SPACING: tuple[float, float, float] = (1.25, 1.0, 1.0)

#: Bump when the generator's output changes, so cached cohorts are regenerated.
GENERATOR_VERSION = 2


@dataclass(frozen=True)
class CaseClass:
    """One clinical group: its labels, its count in the real cohort, its lesion burden."""

    name: str
    ct: int
    nat: int
    severity: int
    real_count: int
    age: tuple[float, float]
    lesions: LesionProfile


CLASSES: tuple[CaseClass, ...] = (
    CaseClass("control", 0, 0, 0, 309, (45, 16), LesionProfile(0, 0.7, (0.08, 0.25), 0.0, 0.5)),
    CaseClass("suspected", 1, 0, 0, 259, (50, 16), LesionProfile(0, 2.0, (0.10, 0.32), 0.05, 0.8)),
    CaseClass("mild", 0, 1, 1, 22, (42, 15), LesionProfile(0, 1.0, (0.08, 0.22), 0.0, 0.7)),
    CaseClass("regular", 1, 1, 1, 540, (55, 15), LesionProfile(1, 2.2, (0.10, 0.42), 0.2, 0.7)),
    CaseClass("severe", 1, 1, 2, 199, (64, 12), LesionProfile(2, 3.0, (0.15, 0.55), 0.5, 0.6)),
)

#: Hospitals and their case counts in the real cohort; noise level differs per scanner.
HOSPITALS: tuple[tuple[str, int, float], ...] = (
    ("synthetic-union", 959, 25.0),
    ("synthetic-liyuan", 370, 40.0),
)


def class_counts(n_cases: int) -> list[int]:
    """Cases per class for `n_cases`, proportional to the real cohort (largest remainder)."""
    real = np.array([c.real_count for c in CLASSES], dtype=float)
    exact = real / real.sum() * n_cases
    counts = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - counts), kind="stable")[: n_cases - counts.sum()]:
        counts[index] += 1
    return counts.tolist()


def plan_cases(n_cases: int, seed: int) -> pd.DataFrame:
    """Labels and metadata of every case (no images): deterministic for `seed`."""
    rng = np.random.default_rng([seed, 2**31])
    classes = np.repeat(np.arange(len(CLASSES)), class_counts(n_cases))
    rng.shuffle(classes)
    hospital_p = np.array([h[1] for h in HOSPITALS], dtype=float)
    hospitals = rng.choice(len(HOSPITALS), size=n_cases, p=hospital_p / hospital_p.sum())
    rows = []
    for index, (klass, hospital) in enumerate(zip(classes, hospitals, strict=True)):
        group = CLASSES[klass]
        rows.append(
            {
                "case_id": f"syn{index:04d}",
                "group": group.name,
                "ct": group.ct,
                "nat": group.nat,
                "severity": group.severity,
                "age": float(np.clip(np.round(rng.normal(*group.age)), 1, 97)),
                "gender": "M" if rng.random() < 0.49 else "F",
                "hospital": HOSPITALS[hospital][0],
            }
        )
    return pd.DataFrame(rows)


def generate_cohort(
    out: str | os.PathLike[str],
    n_cases: int = 60,
    seed: int = 0,
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    spacing: tuple[float, float, float] = DEFAULT_SPACING,
    workers: int = 1,
    test_size: float = 0.3,
    n_folds: int = 5,
    name: str | None = None,
) -> Path:
    """Write a synthetic cohort directory: NIfTI phantoms, lung masks, lesion masks, manifest.

    Args:
        out: Cohort directory to create.
        n_cases: Number of cases (at least enough for `n_folds` per NAT class).
        seed: Makes the cohort reproducible: same seed, same files.
        shape: Volume shape `(D, H, W)`.
        spacing: Voxel size in mm `(z, y, x)`.
        workers: Processes drawing phantoms (1 draws in this process).
        test_size: Share of the test split.
        n_folds: Cross-validation folds inside the training split.
        name: Name in `cohort.yaml` (default: the directory name).

    Returns:
        The cohort directory.
    """
    from mtl_study.data.splits import assign_splits

    out = Path(out)
    plan = plan_cases(n_cases, seed)
    for folder in ("images", "masks", "lesions"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    jobs = [
        (out, row.case_id, row.group, row.hospital, seed, index, tuple(shape), tuple(spacing))
        for index, row in enumerate(plan.itertuples())
    ]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write_case, jobs, chunksize=max(1, len(jobs) // (4 * workers))))
    else:
        for job in jobs:
            _write_case(job)
    manifest = plan.drop(columns="group")
    manifest["image"] = [f"images/{c}.nii.gz" for c in manifest["case_id"]]
    manifest["mask"] = [f"masks/{c}.nii.gz" for c in manifest["case_id"]]
    manifest["lesion"] = [f"lesions/{c}.nii.gz" for c in manifest["case_id"]]
    try:
        manifest = assign_splits(manifest, test_size=test_size, n_folds=n_folds, seed=seed)
    except ValueError as err:
        raise ValueError(f"{out}: {n_cases} synthetic cases cannot be split: {err}") from err
    meta = {
        "name": name or out.name,
        "source": "synthetic",
        "generator": {
            "version": GENERATOR_VERSION,
            "n_cases": n_cases,
            "seed": seed,
            "shape": list(shape),
            "spacing": list(spacing),
        },
    }
    save_cohort(out, manifest, meta=meta)
    return out


def _write_case(job: tuple) -> None:
    """Draw and write one case; a module-level function so worker processes can run it."""
    from mtl_study.io.readers import write_mask, write_scan

    out, case_id, group_name, hospital, seed, index, shape, spacing = job
    group = next(c for c in CLASSES if c.name == group_name)
    noise = next(h[2] for h in HOSPITALS if h[0] == hospital)
    rng = np.random.default_rng([seed, index])
    phantom = make_phantom(shape, spacing, group.lesions, rng, noise_hu=noise)
    scan = Scan(array=to_shifted_hu(phantom.hu), spacing=spacing)
    write_scan(out / "images" / f"{case_id}.nii.gz", scan)
    write_mask(out / "masks" / f"{case_id}.nii.gz", phantom.lung, scan)
    write_mask(out / "lesions" / f"{case_id}.nii.gz", phantom.lesion, scan)
