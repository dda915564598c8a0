"""Train/test split and cross-validation folds, computed once and stored in the manifest.

The paper splits 70/30 stratified by the NAT label and tunes on the training part only; the
folds live inside the training part so nothing can tune on the test cases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from mtl_study.data.schema import TASKS, TEST_FOLD, Split


def assign_splits(
    manifest: pd.DataFrame,
    test_size: float = 0.3,
    stratify: str | None = "nat",
    n_folds: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Return a copy of the manifest with `split` and `fold` filled.

    The result depends only on the set of case ids, their labels and the arguments, not on
    row order: cases are sorted by id before splitting.

    Args:
        manifest: Needs `case_id` and the stratification column.
        test_size: Share of cases in the test split (0 < test_size < 1, or 0 for none).
        stratify: Task column to stratify both split and folds by, or None.
        n_folds: Folds inside the training split (>= 2).
        seed: Seed of the shuffles.

    Raises:
        ValueError: Unknown stratification column, bad sizes, or classes too small to split.
    """
    if stratify is not None and stratify not in TASKS:
        raise ValueError(f"stratify must be one of {', '.join(TASKS)} or None, got {stratify!r}")
    if not 0 <= test_size < 1:
        raise ValueError(f"test_size must be in [0, 1), got {test_size}")
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    frame = manifest.copy()
    ids = frame["case_id"].astype(str).to_numpy()
    order = np.argsort(ids, kind="stable")
    labels = frame[stratify].to_numpy()[order] if stratify else None
    positions = np.arange(len(frame))[order]

    if test_size > 0:
        try:
            train_pos, _ = train_test_split(
                positions, test_size=test_size, stratify=labels, random_state=seed
            )
        except ValueError as err:
            raise ValueError(f"cannot split {len(frame)} cases by {stratify}: {err}") from err
    else:
        train_pos = positions

    split = np.full(len(frame), str(Split.TEST), dtype=object)
    fold = np.full(len(frame), TEST_FOLD, dtype=np.int64)
    split[train_pos] = str(Split.TRAIN)
    train_pos = train_pos[np.argsort(ids[train_pos], kind="stable")]
    train_labels = frame[stratify].to_numpy()[train_pos] if stratify else np.zeros(len(train_pos))
    smallest = np.unique(train_labels, return_counts=True)[1].min() if len(train_pos) else 0
    if smallest < n_folds:
        raise ValueError(
            f"the smallest {stratify or 'training'} class has {smallest} training case(s), "
            f"fewer than n_folds={n_folds}"
        )
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, held_out) in enumerate(folds.split(train_pos, train_labels)):
        fold[train_pos[held_out]] = k
    frame["split"] = split
    frame["fold"] = fold
    return frame
