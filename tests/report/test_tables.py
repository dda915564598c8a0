"""Every table computed from the results directory of a real tiny study."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtl_study.report import compute, load_results
from mtl_study.report.ablation import epochs_to_level

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def report(study_results: Path):
    return compute(load_results(study_results), feature_estimators=20)


def test_rows_follow_spec_order_and_carry_seed_statistics(report, study_results: Path) -> None:
    diagnosis = report.table("diagnosis")
    assert diagnosis.rows[:2] == ["RF", "LGBM"]
    assert all(r.startswith("COVID-MTL (features) [") for r in diagnosis.rows[2:])
    assert {r.split("[")[1].rstrip("]") for r in diagnosis.rows[2:]} == {"mean", "random_weighted"}
    # Each row aggregates its two seeds: mean and sample std of the stored last epochs.
    trials = pd.read_parquet(study_results / "trials.parquet")
    last = trials.sort_values("epoch").groupby("trial_id").tail(1)
    rf = last[last["model"] == "random_forest"]["ct_auc"]
    data = diagnosis.data.set_index(["model", "task"])
    assert data.loc[("RF", "ct"), "n"] == 2
    assert data.loc[("RF", "ct"), "auc"] == pytest.approx(rf.mean())
    assert data.loc[("RF", "ct"), "auc_std"] == pytest.approx(rf.std(ddof=1))
    j = [c.key for c in diagnosis.columns].index("ct_auc")
    assert " ± " in diagnosis.cells[0][j].text
    assert diagnosis.cells[0][[c.key for c in diagnosis.columns].index("split")].text == "test"


def test_best_value_per_column_is_marked(report) -> None:
    table = report.table("diagnosis")
    for j, col in enumerate(table.columns):
        if col.better.value != "high":
            continue
        values = [line[j].value for line in table.cells if line[j].value is not None]
        marked = [line[j].value for line in table.cells if line[j].best]
        assert marked, col.key
        assert all(v == pytest.approx(max(values)) for v in marked)


def test_severity_lists_only_rows_that_evaluated_it(report) -> None:
    severity = report.table("severity")
    # Two-task COVID-MTL never evaluated severity: no row rather than a row of zeros.
    assert severity.rows == ["RF", "LGBM"]
    assert report.table("transfer") is None
    assert len(report.results.errors) == 2


def test_loss_ablation_reports_epochs_to_level(report, study_results: Path) -> None:
    ablation = report.table("ablation")
    assert ablation.rows == ["random_weighted, features only", "mean, features only"]
    assert ablation.data["n"].tolist() == [2, 2]
    trials = pd.read_parquet(study_results / "trials.parquet")
    done = trials["status"] == "TERMINATED"
    mtl = trials[done & (trials["stage"] == "main") & (trials["model"] == "covid_mtl")]
    expected = [
        epochs_to_level(g.sort_values("epoch")["train_loss"].to_numpy())
        for _, g in mtl[mtl["loss"] == "mean"].groupby("trial_id")
    ]
    row = ablation.data.set_index("variant").loc["mean, features only"]
    assert row["epochs_to_level"] == pytest.approx(np.mean(expected))
    assert 1 <= row["epochs_to_level"] <= trials["epoch"].max()


def test_epochs_to_level_definition() -> None:
    assert epochs_to_level(np.array([1.0, 0.5, 0.2, 0.11, 0.1])) == 4
    assert epochs_to_level(np.array([-1.0, -2.0, -3.0])) == 3  # sign-free (uncertainty loss)
    assert np.isnan(epochs_to_level(np.array([])))


def test_significance_tests_and_holm(report) -> None:
    sig = report.table("significance")
    data = sig.data
    assert set(data["baseline"]) == {"COVID-MTL (features) [random_weighted]", "LGBM"}
    tests = set(data["test"])
    assert {"DeLong", "McNemar (exact)", "paired t-test over seeds", "paired bootstrap"} <= tests
    for _, group in data.groupby(["task", "test"]):
        p, adjusted = group["p"].to_numpy(), group["p_holm"].to_numpy()
        ok = np.isfinite(p)
        assert (adjusted[ok] >= p[ok] - 1e-12).all() and (adjusted[ok] <= 1).all()
    assert "Holm" in sig.notes[0] and "DeLong" in sig.notes[0]


def test_welch_table_from_study_cohort(report) -> None:
    welch = report.table("welch")
    assert welch is not None
    assert set(welch.data.columns) == {"feature", "task", "statistic", "df1", "df2", "p"}
    signal = welch.data.set_index(["feature", "task"]).loc[("signal_severity", "severity")]
    assert signal["df1"] == 2 and signal["p"] < 0.05


def test_sources_name_every_trial_of_a_row(report, study_results: Path) -> None:
    trials = pd.read_parquet(study_results / "trials.parquet")
    rf_ids = sorted(trials.loc[trials["model"] == "random_forest", "trial_id"].unique())
    assert report.table("diagnosis").sources["RF"] == rf_ids
    assert report.table("diagnosis").provenance.n_trials == len(
        {i for ids in report.table("diagnosis").sources.values() for i in ids}
    )
