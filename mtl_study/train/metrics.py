"""Per-task classification metrics (SPEC 6), robust to classes missing from small splits."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, roc_auc_score

#: Metric names of every task, in epoch-record order (`{task}_{metric}`).
METRICS: tuple[str, ...] = ("precision", "recall", "f1", "accuracy", "auc")


def task_metrics(labels: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 (weighted over classes), accuracy and ROC AUC of one task.

    For more than two classes the AUC is the mean of the one-vs-rest AUCs, which are also
    returned as `auc_<class>` with their standard deviation `auc_std` (SPEC 6). An AUC whose
    class is absent (or alone) in `labels` is NaN instead of an error.

    Args:
        labels: `(N,)` integer class labels.
        probs: `(N, C)` class probabilities (rows sum to 1).

    Returns:
        Metric name -> value; NaN where a metric is undefined (e.g. empty split).
    """
    labels = np.asarray(labels, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    n_classes = probs.shape[1]
    out = dict.fromkeys(METRICS, math.nan)
    if n_classes > 2:
        out.update({f"auc_{c}": math.nan for c in range(n_classes)} | {"auc_std": math.nan})
    if len(labels) == 0:
        return out
    pred = probs.argmax(axis=1)
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, pred, labels=np.unique(labels), average="weighted", zero_division=0
    )
    out.update(
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
        accuracy=float(accuracy_score(labels, pred)),
    )
    if n_classes == 2:
        out["auc"] = _binary_auc(labels == 1, probs[:, 1])
        return out
    per_class = np.array([_binary_auc(labels == c, probs[:, c]) for c in range(n_classes)])
    for c, value in enumerate(per_class):
        out[f"auc_{c}"] = float(value)
    if np.isfinite(per_class).any():
        finite = per_class[np.isfinite(per_class)]
        out["auc"] = float(finite.mean())
        out["auc_std"] = float(finite.std())
    return out


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC, or NaN when only one class is present."""
    if positive.all() or not positive.any():
        return math.nan
    return float(roc_auc_score(positive, score))
