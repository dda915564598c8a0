"""Classical baselines: registry lookup and per-task fits with full-width probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from mtl_study import baselines


def test_registry_lists_names_and_suggests_the_nearest() -> None:
    assert baselines.available() == ["lightgbm", "random_forest"]
    with pytest.raises(KeyError, match="Did you mean 'random_forest'"):
        baselines.build("random_forst")


@pytest.mark.parametrize("name", ["random_forest", "lightgbm"])
def test_baseline_separates_an_easy_problem_per_task(name: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 5))
    labels = {"ct": (x[:, 0] > 0).astype(int), "severity": np.digitize(x[:, 1], [-0.5, 0.5])}
    model = baselines.build(name, seed=0, n_estimators=50).fit(x, labels, ["ct", "severity"])
    probs = model.predict_proba(x)
    assert probs["ct"].shape == (120, 2) and probs["severity"].shape == (120, 3)
    np.testing.assert_allclose(probs["severity"].sum(axis=1), 1.0)
    assert (probs["ct"].argmax(1) == labels["ct"]).mean() > 0.9


def test_class_missing_from_training_gets_zero_probability() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    labels = {"severity": (x[:, 0] > 0).astype(int)}  # classes 0 and 1 only
    model = baselines.build("random_forest", n_estimators=10).fit(x, labels, ["severity"])
    probs = model.predict_proba(x)["severity"]
    assert probs.shape == (40, 3)
    assert np.all(probs[:, 2] == 0)
