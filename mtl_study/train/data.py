"""Which cases a trial trains and scores on, and how they reach the model.

The split rule lives here and only here: with `evaluate="validation"` the test split is never
read (not for training, not for the feature scaler, not for selection).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from mtl_study.data.schema import TEST_FOLD, Split
from mtl_study.train.augment import VolumeTransform
from mtl_study.train.config import Evaluate


@dataclass(frozen=True)
class SplitCases:
    """Case ids a trial trains on and scores on, in manifest order."""

    train: list[str]
    eval: list[str]


def select_cases(manifest: pd.DataFrame, fold: int | None, evaluate: str) -> SplitCases:
    """Apply the cohort's split and fold columns (contracts §4).

    Raises:
        ValueError: The chosen fold or split holds no cases.
    """
    split = manifest["split"].astype(str)
    folds = manifest["fold"].astype(int)
    in_train = split == Split.TRAIN.value
    if Evaluate(evaluate) is Evaluate.VALIDATION:
        if fold is None:
            raise ValueError("evaluate='validation' needs a fold")
        held_out = in_train & (folds == fold)
        train, evaluated = in_train & ~held_out, held_out
        where = f"fold {fold} of the training split (folds present: {sorted(set(folds[in_train]))})"
    else:
        train, evaluated = in_train, split == Split.TEST.value
        where = "the test split"
    if not evaluated.any():
        raise ValueError(f"no cases to evaluate in {where}")
    if not train.any():
        raise ValueError(f"no training cases left when evaluating {where}")
    if (folds[split == Split.TEST.value] != TEST_FOLD).any():
        raise ValueError(f"test-split cases must have fold {TEST_FOLD}")
    ids = manifest["case_id"].astype(str)
    return SplitCases(train=ids[train].tolist(), eval=ids[evaluated].tolist())


def task_labels(
    manifest: pd.DataFrame, case_ids: Sequence[str], tasks: Sequence[str]
) -> dict[str, np.ndarray]:
    """Task -> `(N,)` int64 labels of `case_ids`; raises naming the cases without a label."""
    table = manifest.set_index(manifest["case_id"].astype(str)).loc[list(case_ids)]
    out = {}
    for task in tasks:
        values = pd.to_numeric(table[task], errors="coerce")
        missing = values.index[values.isna()].tolist()
        if missing:
            raise ValueError(f"task {task!r}: no label for cases {missing[:10]}")
        out[task] = values.to_numpy(dtype=np.int64, copy=True)
    return out


def feature_matrix(
    features: pd.DataFrame | None, case_ids: Sequence[str], where: Path
) -> np.ndarray:
    """`(N, F)` raw float32 features of `case_ids` in order; raises naming missing cases.

    Scaling is the model's job (its AFNN scaler is fitted on the training rows only).
    """
    if features is None:
        raise ValueError(f"cohort {where} has no features.parquet (run `mtl-study preprocess`)")
    table = features.set_index(features["case_id"].astype(str)).drop(columns="case_id")
    missing = [c for c in case_ids if c not in table.index]
    if missing:
        raise ValueError(f"cohort {where}: no features for cases {missing[:10]}")
    matrix = table.loc[list(case_ids)].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        cases = np.asarray(case_ids)[bad][:10].tolist()
        raise ValueError(f"cohort {where}: non-finite features for cases {cases}")
    return matrix.astype(np.float32)


class CaseDataset(Dataset):
    """Cases of one side of a split; items are `(index, seed)` pairs, seed -1 = no augmentation.

    Returns dicts with `index`, `labels` (task -> int64), and `volume` `(1, D, H, W)` float32
    and/or `features` `(F,)` float32.
    """

    def __init__(
        self,
        root: Path,
        case_ids: Sequence[str],
        labels: dict[str, np.ndarray],
        features: np.ndarray | None,
        transform: VolumeTransform | None,
    ) -> None:
        self.root = root
        self.case_ids = list(case_ids)
        self.labels = labels
        self.features = features
        self.transform = transform

    def __len__(self) -> int:
        return len(self.case_ids)

    def __getitem__(self, item: tuple[int, int]) -> dict:
        index, seed = item
        out: dict = {"index": index, "labels": {t: int(v[index]) for t, v in self.labels.items()}}
        if self.features is not None:
            out["features"] = torch.from_numpy(self.features[index])
        if self.transform is not None:
            from mtl_study.preprocess.store import load_volume

            volume = load_volume(self.root, self.case_ids[index])
            out["volume"] = torch.from_numpy(self.transform(volume, None if seed < 0 else seed))
        return out


def epoch_order(n: int, generator: torch.Generator, shuffle: bool) -> list[tuple[int, int]]:
    """`(index, seed)` items of one epoch: a permutation and per-sample augmentation seeds drawn
    from the trial generator, so workers never touch their own RNG."""
    if not shuffle:
        return [(i, -1) for i in range(n)]
    order = torch.randperm(n, generator=generator).tolist()
    seeds = torch.randint(0, 2**31 - 1, (n,), generator=generator).tolist()
    return list(zip(order, seeds, strict=True))


def tensor_batches(
    dataset: CaseDataset, items: list[tuple[int, int]], batch_size: int
) -> Iterator[dict]:
    """Batches of a features-only dataset straight from its arrays (no DataLoader overhead)."""
    assert dataset.features is not None and dataset.transform is None
    features = torch.from_numpy(dataset.features)
    labels = {t: torch.from_numpy(v) for t, v in dataset.labels.items()}
    index = torch.tensor([i for i, _ in items], dtype=torch.long)
    for start in range(0, len(index), batch_size):
        rows = index[start : start + batch_size]
        yield {
            "index": rows,
            "features": features[rows],
            "labels": {t: v[rows] for t, v in labels.items()},
        }
