"""`select_cases` follows the fold/split rule of contracts §4."""

from __future__ import annotations

import pandas as pd
import pytest

from mtl_study.train.data import select_cases


def _manifest() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": [f"c{i}" for i in range(8)],
            "split": ["train"] * 6 + ["test"] * 2,
            "fold": [0, 1, 2, 0, 1, 2, -1, -1],
        }
    )


def test_validation_holds_out_one_fold_and_never_reads_test() -> None:
    cases = select_cases(_manifest(), fold=1, evaluate="validation")
    assert cases.eval == ["c1", "c4"]
    assert cases.train == ["c0", "c2", "c3", "c5"]


def test_test_evaluation_trains_on_the_whole_training_split() -> None:
    cases = select_cases(_manifest(), fold=None, evaluate="test")
    assert cases.train == [f"c{i}" for i in range(6)]
    assert cases.eval == ["c6", "c7"]


def test_empty_fold_is_an_error_naming_the_fold() -> None:
    with pytest.raises(ValueError, match="fold 7"):
        select_cases(_manifest(), fold=7, evaluate="validation")
