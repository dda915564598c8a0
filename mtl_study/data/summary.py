"""Plain-data summary of a cohort (computed here, rendered by the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mtl_study.data.cohort import Cohort
from mtl_study.data.schema import CLASS_NAMES, TASKS


@dataclass
class CohortSummary:
    """What `mtl-study data info` shows.

    Attributes:
        name, source, root, content_hash: From the descriptor and the data.
        n_cases: Rows of the manifest.
        n_features: Feature columns (0 without features).
        n_images, n_masks, n_lesions: Cases with a scan / lung mask / lesion mask.
        classes: One row per task x class: `task, label, class_name, train, test, total`.
        splits: One row per split and fold: `split, fold, cases`.
        hospitals: Cases per hospital.
    """

    name: str
    source: str
    root: str
    content_hash: str
    n_cases: int
    n_features: int
    n_images: int
    n_masks: int
    n_lesions: int
    classes: pd.DataFrame
    splits: pd.DataFrame
    hospitals: pd.Series


def summarize(cohort: Cohort) -> CohortSummary:
    """Count cases, classes per task and split, folds, hospitals and features."""
    manifest = cohort.manifest
    rows = []
    for task, n_classes in TASKS.items():
        for label in range(n_classes):
            of_class = manifest[manifest[task] == label]
            rows.append(
                {
                    "task": task,
                    "label": label,
                    "class_name": CLASS_NAMES[task][label],
                    "train": int((of_class["split"] == "train").sum()),
                    "test": int((of_class["split"] == "test").sum()),
                    "total": len(of_class),
                }
            )
    splits = (
        manifest.groupby(["split", "fold"]).size().rename("cases").reset_index()
        if len(manifest)
        else pd.DataFrame(columns=["split", "fold", "cases"])
    )
    return CohortSummary(
        name=str(cohort.meta.get("name", cohort.root.name)),
        source=str(cohort.meta.get("source", "unknown")),
        root=str(cohort.root),
        content_hash=cohort.content_hash,
        n_cases=len(manifest),
        n_features=len(cohort.feature_names),
        n_images=int((manifest["image"] != "").sum()),
        n_masks=int((manifest["mask"] != "").sum()),
        n_lesions=int((manifest["lesion"] != "").sum()),
        classes=pd.DataFrame(rows),
        splits=splits,
        hospitals=manifest["hospital"].replace("", "(unknown)").value_counts(),
    )
