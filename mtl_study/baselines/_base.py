"""What a classical baseline is: one scikit-learn-style classifier per task on the features."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from mtl_study.data.schema import TASKS


class TaskBaseline(ABC):
    """Fits an independent classifier per task (SPEC 3, classical baselines).

    `run_trial` calls `fit` once on the training cases and `predict_proba` on the evaluated
    ones; options are stored as given and only read in `fit`.

    Args:
        seed: Random state of every per-task classifier.
        n_jobs: Threads per classifier.
        **options: Passed to the classifier (e.g. `n_estimators`).
    """

    def __init__(self, seed: int = 0, n_jobs: int = 1, **options: Any) -> None:
        self.seed = seed
        self.n_jobs = n_jobs
        self.options = options
        self.models_: dict[str, Any] = {}

    @abstractmethod
    def make_classifier(self) -> Any:
        """A fresh, unfitted classifier with `fit` / `predict_proba` / `classes_`."""

    def fit(
        self, x: np.ndarray, labels: dict[str, np.ndarray], tasks: Sequence[str]
    ) -> TaskBaseline:
        """Fit one classifier per task on `(N, F)` features."""
        self.models_ = {task: self.make_classifier().fit(x, labels[task]) for task in tasks}
        return self

    def predict_proba(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Task -> `(N, TASKS[task])` probabilities; classes unseen in training get 0."""
        out = {}
        for task, model in self.models_.items():
            probs = np.zeros((len(x), TASKS[task]))
            probs[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(x)
            out[task] = probs
        return out
