"""Significance tests for paired model comparisons, and Welch's ANOVA for features.

- DeLong's test for two correlated ROC AUCs on the same cases (DeLong, DeLong &
  Clarke-Pearson 1988; fast algorithm of Sun & Xu 2014).
- A paired bootstrap of the macro one-vs-rest AUC difference, for multi-class tasks where
  DeLong's closed form does not apply.
- McNemar's exact test for two classifiers' accuracy on the same cases (binomial test on the
  discordant pairs).
- A paired t-test of a metric across seeds (or folds) matched by seed.
- Holm's step-down adjustment for multiple comparisons.
- Welch's ANOVA (unequal variances) via statsmodels `anova_oneway(..., use_var="unequal")`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


@dataclass(frozen=True)
class TestResult:
    """Outcome of one paired test: statistic, two-sided p-value and the test's name."""

    statistic: float
    p: float
    method: str


def _midranks(x: np.ndarray) -> np.ndarray:
    return sps.rankdata(x, method="average")


def delong(labels: np.ndarray, score_a: np.ndarray, score_b: np.ndarray) -> TestResult:
    """DeLong's test of AUC(a) = AUC(b) for binary `labels` (0/1) on the same cases.

    Returns:
        z statistic (AUC(a) - AUC(b) over its standard error) and two-sided p.

    Raises:
        ValueError: Only one class present.
    """
    y = np.asarray(labels).astype(int)
    pos, neg = y == 1, y == 0
    m, n = int(pos.sum()), int(neg.sum())
    if m == 0 or n == 0:
        raise ValueError("DeLong's test needs both classes among the cases")
    scores = np.vstack([np.asarray(score_a, float), np.asarray(score_b, float)])
    aucs, v01, v10 = [], [], []
    for s in scores:
        x, yy = s[pos], s[neg]
        tx, ty, tz = _midranks(x), _midranks(yy), _midranks(np.concatenate([x, yy]))
        aucs.append((tz[:m].sum() - m * (m + 1) / 2) / (m * n))
        v01.append((tz[:m] - tx) / n)
        v10.append(1.0 - (tz[m:] - ty) / m)
    aucs_arr = np.asarray(aucs)
    cov = np.cov(np.asarray(v01)) / m + np.cov(np.asarray(v10)) / n
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    diff = aucs_arr[0] - aucs_arr[1]
    if var <= 1e-15:
        return TestResult(0.0 if diff == 0 else float("inf"), 1.0 if diff == 0 else 0.0, "DeLong")
    z = diff / np.sqrt(var)
    return TestResult(float(z), float(2 * sps.norm.sf(abs(z))), "DeLong")


def binary_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC via the Mann-Whitney rank sum (ties count half); NaN with one class only."""
    y = np.asarray(labels).astype(bool)
    m = int(y.sum())
    n = y.size - m
    if m == 0 or n == 0:
        return float("nan")
    ranks = sps.rankdata(scores)
    return float((ranks[y].sum() - m * (m + 1) / 2) / (m * n))


def macro_auc(labels: np.ndarray, probs: np.ndarray) -> float:
    """Mean one-vs-rest AUC over the classes present (SPEC 6 severity AUC)."""
    y = np.asarray(labels).astype(int)
    aucs = [binary_auc(y == k, probs[:, k]) for k in range(probs.shape[1])]
    aucs = [a for a in aucs if np.isfinite(a)]
    return float(np.mean(aucs)) if aucs else float("nan")


def bootstrap_auc(
    labels: np.ndarray,
    probs_a: np.ndarray,
    probs_b: np.ndarray,
    n_boot: int = 2000,
    seed: int = 0,
) -> TestResult:
    """Paired bootstrap test of AUC(a) = AUC(b); probs are `(N,)` binary or `(N, K)` scores.

    Cases are resampled with replacement (the same resample for both models); the p-value is
    the two-sided percentile p of the AUC difference around 0. Binary AUC for `(N,)` or
    `(N, 2)` scores, macro one-vs-rest AUC otherwise.
    """
    y = np.asarray(labels).astype(int)
    a, b = np.asarray(probs_a, float), np.asarray(probs_b, float)
    if a.ndim == 1:
        a, b = np.column_stack([1 - a, a]), np.column_stack([1 - b, b])

    def auc(idx: np.ndarray, p: np.ndarray) -> float:
        if p.shape[1] == 2:
            return binary_auc(y[idx] == 1, p[idx, 1])
        return macro_auc(y[idx], p[idx])

    rng = np.random.default_rng(seed)
    everyone = np.arange(len(y))
    observed = auc(everyone, a) - auc(everyone, b)
    diffs = np.empty(n_boot)
    for i in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        diffs[i] = auc(idx, a) - auc(idx, b)
    d = diffs[np.isfinite(diffs)]
    if d.size == 0:
        return TestResult(float(observed), float("nan"), "paired bootstrap")
    p = 2 * min((d <= 0).mean(), (d >= 0).mean())
    return TestResult(float(observed), float(min(1.0, max(p, 1.0 / d.size))), "paired bootstrap")


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> TestResult:
    """McNemar's exact test: are the two classifiers' error rates equal on the same cases?

    Returns:
        statistic = number of cases only `a` got right minus those only `b` got right;
        p = two-sided exact binomial p on the discordant pairs (1 when there are none).
    """
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    if only_a + only_b == 0:
        return TestResult(0.0, 1.0, "McNemar (exact)")
    p = sps.binomtest(only_a, only_a + only_b, 0.5).pvalue
    return TestResult(float(only_a - only_b), float(p), "McNemar (exact)")


def paired_seeds(values_a: np.ndarray, values_b: np.ndarray) -> TestResult:
    """Paired t-test of a metric over matched seeds/folds; NaN p with fewer than 2 pairs."""
    name = "paired t-test over seeds"
    a, b = np.asarray(values_a, float), np.asarray(values_b, float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 2:
        return TestResult(float("nan"), float("nan"), name)
    d = a - b
    if np.allclose(d, d[0]):
        # Constant differences: the t statistic is undefined; the sign alone decides.
        same = bool(np.isclose(d[0], 0))
        return TestResult(
            0.0 if same else float(np.sign(d[0]) * np.inf), 1.0 if same else 0.0, name
        )
    res = sps.ttest_rel(a, b)
    return TestResult(float(res.statistic), float(res.pvalue), name)


def holm(pvalues: list[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values; NaNs are kept and not counted as comparisons."""
    p = np.asarray(pvalues, float)
    out = np.full_like(p, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    if idx.size == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    m = order.size
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


@dataclass(frozen=True)
class WelchResult:
    """Welch's ANOVA of one feature across the groups of one task."""

    statistic: float
    df1: float
    df2: float
    p: float


def welch_anova(values: np.ndarray, groups: np.ndarray) -> WelchResult:
    """Welch's one-way ANOVA with unequal variances (statsmodels), NaNs dropped.

    Raises:
        ValueError: Fewer than two groups with at least two values.
    """
    from statsmodels.stats.oneway import anova_oneway

    v, g = np.asarray(values, float), np.asarray(groups)
    keep = np.isfinite(v)
    v, g = v[keep], g[keep]
    samples = [v[g == k] for k in np.unique(g)]
    samples = [s for s in samples if s.size >= 2]
    if len(samples) < 2:
        raise ValueError("Welch's ANOVA needs two groups with at least two values each")
    res = anova_oneway(samples, use_var="unequal", welch_correction=True)
    return WelchResult(float(res.statistic), float(res.df[0]), float(res.df[1]), float(res.pvalue))
