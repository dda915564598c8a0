"""The split is stratified, reproducible, independent of row order, and folds stay in train."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mtl_study.data.splits import assign_splits


@pytest.fixture
def manifest() -> pd.DataFrame:
    """1,329 cases with the real cohort's label shares (nat 761/568, severity 568/562/199)."""
    rng = np.random.default_rng(1)
    nat = np.r_[np.ones(761, int), np.zeros(568, int)]
    severity = np.r_[np.ones(562, int), np.full(199, 2), np.zeros(568, int)]
    order = rng.permutation(len(nat))
    return pd.DataFrame(
        {
            "case_id": [f"p{i}" for i in range(len(nat))],
            "nat": nat[order],
            "ct": nat[order],
            "severity": severity[order],
        }
    )


def test_paper_split_sizes_and_stratification(manifest: pd.DataFrame) -> None:
    split = assign_splits(manifest)
    train, test = split[split["split"] == "train"], split[split["split"] == "test"]
    assert (len(train), len(test)) == (930, 399)  # the paper's 70/30
    assert abs(train["nat"].mean() - manifest["nat"].mean()) < 0.005
    assert abs(test["nat"].mean() - manifest["nat"].mean()) < 0.005
    assert set(test["fold"]) == {-1}
    assert sorted(train["fold"].unique()) == [0, 1, 2, 3, 4]
    sizes = train["fold"].value_counts()
    assert sizes.max() - sizes.min() <= 1
    for _, fold in train.groupby("fold"):
        assert abs(fold["nat"].mean() - train["nat"].mean()) < 0.01


def test_reproducible_and_row_order_independent(manifest: pd.DataFrame) -> None:
    first = assign_splits(manifest, seed=3)
    again = assign_splits(manifest, seed=3)
    pd.testing.assert_frame_equal(first, again)
    shuffled = assign_splits(manifest.sample(frac=1.0, random_state=7), seed=3)
    shuffled = shuffled.set_index("case_id").loc[first["case_id"]]
    assert (shuffled["split"].to_numpy() == first["split"].to_numpy()).all()
    assert (shuffled["fold"].to_numpy() == first["fold"].to_numpy()).all()
    other = assign_splits(manifest, seed=4)
    assert (other["split"] != first["split"]).any()


def test_options(manifest: pd.DataFrame) -> None:
    by_severity = assign_splits(manifest, test_size=0.2, stratify="severity", n_folds=3)
    test = by_severity[by_severity["split"] == "test"]
    assert len(test) == round(0.2 * len(manifest)) or len(test) == int(np.ceil(0.2 * 1329))
    assert abs((test["severity"] == 2).mean() - 199 / 1329) < 0.005
    assert sorted(by_severity.loc[by_severity["split"] == "train", "fold"].unique()) == [0, 1, 2]
    unstratified = assign_splits(manifest, stratify=None)
    assert (unstratified["split"] == "test").sum() == 399
    no_test = assign_splits(manifest, test_size=0.0)
    assert (no_test["split"] == "train").all()


def test_errors(manifest: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="stratify must be one of ct, nat, severity"):
        assign_splits(manifest, stratify="age")
    with pytest.raises(ValueError, match="n_folds"):
        assign_splits(manifest, n_folds=1)
    tiny = manifest.head(12).assign(nat=[1] * 10 + [0] * 2)
    with pytest.raises(ValueError, match="nat"):
        assign_splits(tiny, n_folds=5)
