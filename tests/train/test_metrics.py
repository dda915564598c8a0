"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mtl_study.train.metrics import task_metrics


def test_binary_metrics_match_hand_computation() -> None:
    labels = np.array([0, 0, 1, 1])
    p1 = np.array([0.1, 0.6, 0.4, 0.9])
    out = task_metrics(labels, np.stack([1 - p1, p1], axis=1))
    # predictions 0,1,0,1: one hit per class -> every weighted score is 0.5
    assert out["accuracy"] == pytest.approx(0.5)
    assert out["precision"] == pytest.approx(0.5)
    assert out["recall"] == pytest.approx(0.5)
    assert out["f1"] == pytest.approx(0.5)
    # 3 of the 4 (negative, positive) pairs are ordered correctly
    assert out["auc"] == pytest.approx(0.75)
    assert "auc_std" not in out


def test_three_class_metrics_match_hand_computation() -> None:
    labels = np.array([0, 1, 2, 2])
    probs = np.array(
        [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]],
    )
    out = task_metrics(labels, probs)
    assert out["accuracy"] == pytest.approx(0.75)
    assert out["precision"] == pytest.approx((1 * 1 + 0.5 * 1 + 1 * 2) / 4)
    assert out["recall"] == pytest.approx((1 + 1 + 0.5 * 2) / 4)
    assert out["f1"] == pytest.approx((1 + 2 / 3 + 2 * 2 / 3) / 4)
    assert out["auc_0"] == pytest.approx(1.0)
    assert out["auc_1"] == pytest.approx(1.0)
    assert out["auc_2"] == pytest.approx(3.5 / 4)  # one tie counts half
    aucs = np.array([1.0, 1.0, 0.875])
    assert out["auc"] == pytest.approx(aucs.mean())
    assert out["auc_std"] == pytest.approx(aucs.std())


def test_missing_class_gives_nan_not_an_error() -> None:
    labels = np.array([0, 0, 1, 1])
    probs = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.5, 0.2]])
    out = task_metrics(labels, probs)
    assert math.isnan(out["auc_2"])
    assert out["auc_0"] == pytest.approx(1.0) and out["auc_1"] == pytest.approx(1.0)
    assert out["auc"] == pytest.approx(1.0)
    single = task_metrics(np.array([1, 1]), np.array([[0.4, 0.6], [0.3, 0.7]]))
    assert math.isnan(single["auc"]) and single["accuracy"] == 1.0
    empty = task_metrics(np.array([], dtype=int), np.zeros((0, 3)))
    assert all(math.isnan(v) for v in empty.values())
