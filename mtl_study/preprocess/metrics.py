"""Segmentation metrics against a reference mask (SPEC 2.5) plus lesion coverage."""

from __future__ import annotations

import math

import numpy as np

#: Column order of the metric part of `preprocessed/segmentation.csv`.
METRICS: tuple[str, ...] = ("dice", "jaccard", "mcc", "precision", "lesion_coverage")


def _counts(pred: np.ndarray, ref: np.ndarray) -> tuple[int, int, int, int]:
    """True positives, false positives, false negatives, true negatives."""
    if pred.shape != ref.shape:
        raise ValueError(f"mask shapes differ: prediction {pred.shape}, reference {ref.shape}")
    pred = pred.astype(bool, copy=False)
    ref = ref.astype(bool, copy=False)
    tp = int(np.count_nonzero(pred & ref))
    fp = int(np.count_nonzero(pred)) - tp
    fn = int(np.count_nonzero(ref)) - tp
    tn = pred.size - tp - fp - fn
    return tp, fp, fn, tn


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def dice(pred: np.ndarray, ref: np.ndarray) -> float:
    """2|P∩R| / (|P| + |R|); NaN when both masks are empty."""
    tp, fp, fn, _ = _counts(pred, ref)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def jaccard(pred: np.ndarray, ref: np.ndarray) -> float:
    """|P∩R| / |P∪R|; NaN when both masks are empty."""
    tp, fp, fn, _ = _counts(pred, ref)
    return _ratio(tp, tp + fp + fn)


def precision(pred: np.ndarray, ref: np.ndarray) -> float:
    """|P∩R| / |P|; NaN for an empty prediction."""
    tp, fp, _, _ = _counts(pred, ref)
    return _ratio(tp, tp + fp)


def mcc(pred: np.ndarray, ref: np.ndarray) -> float:
    """Matthews correlation coefficient over all voxels (floats: counts overflow int64)."""
    tp, fp, fn, tn = (float(c) for c in _counts(pred, ref))
    den = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return _ratio(tp * tn - fp * fn, den)


def lesion_coverage(pred: np.ndarray, lesion: np.ndarray | None) -> float:
    """Share of lesion voxels inside the predicted mask; NaN without a (non-empty) lesion."""
    if lesion is None:
        return math.nan
    tp, _, fn, _ = _counts(pred, lesion)
    return _ratio(tp, tp + fn)


def segmentation_metrics(
    pred: np.ndarray, ref: np.ndarray, lesion: np.ndarray | None = None
) -> dict[str, float]:
    """All of `METRICS` for one predicted mask."""
    return {
        "dice": dice(pred, ref),
        "jaccard": jaccard(pred, ref),
        "mcc": mcc(pred, ref),
        "precision": precision(pred, ref),
        "lesion_coverage": lesion_coverage(pred, lesion),
    }
