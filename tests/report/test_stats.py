"""Significance tests against values computed independently in the test."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.metrics import roc_auc_score
from statsmodels.stats.oneway import anova_oneway

from mtl_study.report import stats


def _pair(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    base = rng.normal(0, 1, n)
    a = y * 1.2 + base + rng.normal(0, 0.6, n)  # correlated scores on the same cases
    b = y * 0.6 + base + rng.normal(0, 0.6, n)
    return y, a, b


def test_delong_auc_and_variance_agree_with_brute_force_bootstrap() -> None:
    y, a, b = _pair()
    res = stats.delong(y, a, b)
    diff = roc_auc_score(y, a) - roc_auc_score(y, b)

    # Brute force: the bootstrap standard error of the AUC difference, AUC as Mann-Whitney U.
    def auc(labels: np.ndarray, scores: np.ndarray) -> float:
        pos, neg = scores[labels == 1], scores[labels == 0]
        return sps.mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg))

    rng = np.random.default_rng(1)
    diffs = []
    for _ in range(1500):
        i = rng.integers(0, len(y), len(y))
        if 0 < y[i].sum() < len(i):
            diffs.append(auc(y[i], a[i]) - auc(y[i], b[i]))
    se_boot = np.std(diffs, ddof=1)
    se_delong = diff / res.statistic
    assert se_delong == pytest.approx(se_boot, rel=0.15)
    z_boot = diff / se_boot
    assert res.p == pytest.approx(2 * sps.norm.sf(abs(z_boot)), abs=0.03)
    assert res.method == "DeLong"


def test_delong_is_symmetric_and_null_on_identical_scores() -> None:
    y, a, b = _pair(seed=3)
    ab, ba = stats.delong(y, a, b), stats.delong(y, b, a)
    assert ab.statistic == pytest.approx(-ba.statistic) and ab.p == pytest.approx(ba.p)
    same = stats.delong(y, a, a)
    assert same.p == 1.0 and same.statistic == 0.0
    with pytest.raises(ValueError, match="both classes"):
        stats.delong(np.ones(5), a[:5], b[:5])


def test_bootstrap_agrees_with_delong_on_binary_scores() -> None:
    y, a, b = _pair(seed=4)
    boot = stats.bootstrap_auc(y, a, b, n_boot=2000)
    assert boot.statistic == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b))
    assert boot.p == pytest.approx(stats.delong(y, a, b).p, abs=0.06)


def test_macro_auc_equals_sklearn_one_vs_rest() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 90)
    probs = rng.dirichlet(np.ones(3), 90)
    probs[np.arange(90), y] += 0.3
    probs /= probs.sum(1, keepdims=True)
    assert stats.macro_auc(y, probs) == pytest.approx(
        roc_auc_score(y, probs, multi_class="ovr", average="macro")
    )


def test_mcnemar_equals_exact_binomial_computed_by_hand() -> None:
    rng = np.random.default_rng(6)
    a = rng.random(80) < 0.8
    b = rng.random(80) < 0.6
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    n, k = only_a + only_b, min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    expected = min(1.0, 2 * tail)
    res = stats.mcnemar(a, b)
    assert res.p == pytest.approx(expected)
    assert res.statistic == only_a - only_b
    assert stats.mcnemar(a, a).p == 1.0


def test_paired_seeds_is_the_paired_t_test() -> None:
    a = np.array([0.81, 0.84, 0.79, 0.86])
    b = np.array([0.78, 0.80, 0.80, 0.81])
    d = a - b
    t = d.mean() / (d.std(ddof=1) / math.sqrt(len(d)))
    res = stats.paired_seeds(a, b)
    assert res.statistic == pytest.approx(t)
    assert res.p == pytest.approx(2 * sps.t.sf(abs(t), len(d) - 1))
    assert math.isnan(stats.paired_seeds(a[:1], b[:1]).p)
    assert stats.paired_seeds(a, a).p == 1.0


def test_holm_matches_the_step_down_definition() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    expected = [0.03, 0.06, 0.06, 0.02, np.nan]
    np.testing.assert_allclose(stats.holm(p), expected)
    assert np.isnan(stats.holm([np.nan])).all()


def test_welch_anova_on_the_real_cohort_equals_statsmodels(covid_mtl_data: Path) -> None:
    features = pd.read_csv(covid_mtl_data / "features.csv.gz")
    labels = pd.read_csv(covid_mtl_data / "labels.csv")
    frame = labels.merge(features, on="PID")
    for name in ("Mean", "HLL_glcm_Contrast", "Entropy"):
        for task in ("COVIDCT", "COVIDNC", "COVIDSeverity"):
            values, groups = frame[name].to_numpy(float), frame[task].to_numpy()
            ours = stats.welch_anova(values, groups)
            theirs = anova_oneway(
                [values[groups == g] for g in np.unique(groups)], use_var="unequal"
            )
            assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
            assert (ours.df1, ours.df2) == pytest.approx(tuple(theirs.df), rel=1e-12)
            assert ours.p == pytest.approx(theirs.pvalue, rel=1e-9, abs=1e-300)
