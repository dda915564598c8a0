"""Names shared by every stage: tasks, their classes, manifest columns, splits."""

from __future__ import annotations

from enum import StrEnum

#: Task name -> number of classes (SPEC 1).
TASKS: dict[str, int] = {"ct": 2, "nat": 2, "severity": 3}

#: Human-readable class names per task, in label order.
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "ct": ("negative", "positive"),
    "nat": ("negative", "positive"),
    "severity": ("control/suspected", "mild/regular", "severe/critical"),
}


class Split(StrEnum):
    """Where a case belongs; the test split is touched only for final reporting."""

    TRAIN = "train"
    TEST = "test"


class Inputs(StrEnum):
    """What a model reads from a case."""

    VOLUME = "volume"
    FEATURES = "features"
    BOTH = "both"


#: Manifest columns in order; `image`, `mask` and `lesion` are paths relative to the cohort
#: directory (or absolute) and may be empty.
MANIFEST_COLUMNS: tuple[str, ...] = (
    "case_id",
    "image",
    "mask",
    "lesion",
    "ct",
    "nat",
    "severity",
    "age",
    "gender",
    "hospital",
    "split",
    "fold",
)

#: Value of `fold` for cases of the test split.
TEST_FOLD = -1
