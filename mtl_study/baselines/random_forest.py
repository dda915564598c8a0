"""Random Forest on the radiomics features (SPEC 3: 1,000 trees)."""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import RandomForestClassifier

from mtl_study.baselines._base import TaskBaseline


class RandomForestBaseline(TaskBaseline):
    """`n_estimators` defaults to the paper's 1,000 trees; lower it for quick tests."""

    def make_classifier(self) -> Any:
        options = {"n_estimators": 1000} | self.options
        return RandomForestClassifier(random_state=self.seed, n_jobs=self.n_jobs, **options)
