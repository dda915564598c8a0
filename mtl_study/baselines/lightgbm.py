"""LightGBM on the radiomics features (SPEC 3: 1,000 estimators, learning rate 0.01)."""

from __future__ import annotations

from typing import Any

from mtl_study.baselines._base import TaskBaseline


class LightGBMBaseline(TaskBaseline):
    """Gradient-boosted trees; quiet (`verbose=-1`) and single-threaded unless `n_jobs` says."""

    def make_classifier(self) -> Any:
        from lightgbm import LGBMClassifier

        options = {"n_estimators": 1000, "learning_rate": 0.01, "verbose": -1} | self.options
        return LGBMClassifier(random_state=self.seed, n_jobs=self.n_jobs, **options)

    def feature_importances(self) -> dict[str, Any]:
        """Task -> split-count importance per feature (for the top-feature report)."""
        return {task: model.feature_importances_ for task, model in self.models_.items()}
