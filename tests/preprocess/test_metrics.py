"""Segmentation metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mtl_study.preprocess.metrics import (
    METRICS,
    dice,
    jaccard,
    lesion_coverage,
    mcc,
    precision,
    segmentation_metrics,
)


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    """10 voxels: prediction 4 (3 right), reference 5 -> TP 3, FP 1, FN 2, TN 4."""
    pred = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    ref = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0], dtype=bool)
    return pred, ref


def test_hand_computed_values(pair: tuple[np.ndarray, np.ndarray]) -> None:
    pred, ref = pair
    assert dice(pred, ref) == pytest.approx(6 / 9)
    assert jaccard(pred, ref) == pytest.approx(3 / 6)
    assert precision(pred, ref) == pytest.approx(3 / 4)
    assert mcc(pred, ref) == pytest.approx((3 * 4 - 1 * 2) / math.sqrt(4 * 5 * 5 * 6))


def test_perfect_and_disjoint_masks() -> None:
    mask = np.zeros((4, 5, 6), dtype=bool)
    mask[1:3, 1:4, 2:5] = True
    assert segmentation_metrics(mask, mask, mask) == {
        "dice": 1.0,
        "jaccard": 1.0,
        "mcc": 1.0,
        "precision": 1.0,
        "lesion_coverage": 1.0,
    }
    assert dice(mask, ~mask) == 0.0
    assert mcc(mask, ~mask) == pytest.approx(-1.0)


def test_lesion_coverage_and_empty_cases(pair: tuple[np.ndarray, np.ndarray]) -> None:
    pred, ref = pair
    lesion = np.array([0, 0, 1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    assert lesion_coverage(pred, lesion) == pytest.approx(0.5)
    assert math.isnan(lesion_coverage(pred, None))
    assert math.isnan(lesion_coverage(pred, np.zeros_like(lesion)))
    empty = np.zeros_like(pred)
    assert math.isnan(dice(empty, empty))
    assert math.isnan(precision(empty, ref))
    assert list(segmentation_metrics(pred, ref)) == list(METRICS)


def test_mcc_does_not_overflow_on_large_volumes() -> None:
    ref = np.zeros((400, 512, 512), dtype=bool)
    ref[50:350, 100:400, 100:400] = True
    pred = np.roll(ref, 3, axis=2)
    value = mcc(pred, ref)
    assert 0.9 < value < 1.0


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        dice(np.zeros((2, 2), bool), np.zeros((2, 3), bool))
