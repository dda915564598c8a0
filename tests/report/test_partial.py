"""Partial results (a study still running, interrupted, or a search only) never crash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from mtl_study.report import ReportError, compute, generate, load_results
from mtl_study.report.table import MISSING

pytestmark = pytest.mark.ray


def test_missing_trials_leave_missing_cells_not_zeros(results_copy: Callable[[], Path]) -> None:
    root = results_copy()
    trials = pd.read_parquet(root / "trials.parquet")
    # As if the study were interrupted: one RF seed gone, LightGBM's ct metrics not stored.
    rf_seed1 = trials["trial_id"].str.startswith("main-random_forest") & (trials["seed"] == 1)
    trials = trials[~rf_seed1]
    lgbm = trials["model"] == "lightgbm"
    trials.loc[lgbm, [c for c in trials.columns if c.startswith("ct_")]] = np.nan
    trials.to_parquet(root / "trials.parquet")
    report = compute(load_results(root), feature_estimators=5)
    diagnosis = report.table("diagnosis")
    keys = [c.key for c in diagnosis.columns]
    rf, lgbm_row = diagnosis.rows.index("RF"), diagnosis.rows.index("LGBM")
    assert diagnosis.cells[rf][keys.index("n")].text == "1"
    assert " ± " not in diagnosis.cells[rf][keys.index("ct_auc")].text
    assert diagnosis.cells[lgbm_row][keys.index("ct_auc")].text == MISSING
    assert diagnosis.cells[lgbm_row][keys.index("nat_auc")].text != MISSING
    out = generate(root, root / "partial")
    assert "| LGBM | test | 2 | — |" in (out / "diagnosis.md").read_text(encoding="utf-8")


def test_without_predictions_or_manifest_tables_still_render(
    results_copy: Callable[[], Path],
) -> None:
    root = results_copy()
    (root / "predictions.parquet").unlink()
    (root / "manifest.json").unlink()
    out = generate(root)
    assert (out / "diagnosis.md").exists() and (out / "ablation.tex").exists()
    assert not list(out.glob("roc_*.png"))  # ROC curves need predictions
    assert "study hash: unknown" in (out / "diagnosis.csv").read_text(encoding="utf-8")
    sig = pd.read_csv(out / "significance.csv", comment="#")
    assert set(sig["test"]) == {"paired t-test over seeds"}


def test_only_errors_and_nothing_finished(results_copy: Callable[[], Path]) -> None:
    root = results_copy()
    trials = pd.read_parquet(root / "trials.parquet")
    trials[trials["status"] == "ERROR"].to_parquet(root / "trials.parquet")
    report = compute(load_results(root), feature_estimators=5)
    assert [t.name for t in report.tables] == ["welch"]
    out = generate(root)
    assert "failed trials: 2" in (out / "report.html").read_text(encoding="utf-8")


def _optuna_search(cohort: Path, out: Path) -> optuna.Study:
    """A real Optuna search, stored as search.parquet (contract section 5)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    manifest = pd.read_parquet(cohort / "manifest.parquet")
    features = pd.read_parquet(cohort / "features.parquet")
    frame = manifest.merge(features, on="case_id")
    x, y = frame[[c for c in features.columns if c != "case_id"]], frame["nat"]

    def objective(trial: optuna.Trial) -> float:
        c = trial.suggest_float("C", 1e-3, 10, log=True)
        k = trial.suggest_int("dirichlet_n", 1, 8)
        if k == 8:
            raise optuna.TrialPruned()
        model = LogisticRegression(C=c, max_iter=200)
        return float(cross_val_score(model, x, y, cv=3, scoring="roc_auc").mean())

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=12)
    rows = [
        {
            "search": "nat-logreg",
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "metric": "nat_auc",
            "direction": "maximize",
        }
        | {f"param_{k}": v for k, v in t.params.items()}
        for t in study.trials
    ]
    pd.DataFrame(rows).to_parquet(out / "search.parquet")
    return study


def test_search_only_results(feature_cohort: Path, tmp_path: Path) -> None:
    root = tmp_path / "search-only"
    root.mkdir()
    study = _optuna_search(feature_cohort, root)
    report = compute(load_results(root))
    assert [t.name for t in report.tables] == ["search"]
    data = report.table("search").data.iloc[0]
    assert data["best_value"] == pytest.approx(study.best_value)
    assert data["param_C"] == pytest.approx(study.best_params["C"])
    assert data["n_trials"] == 12
    out = generate(root)
    assert {p.name for p in out.glob("search_*.png")} == {"search_C.png", "search_dirichlet_n.png"}
    assert "best configuration" in (out / "search.md").read_text(encoding="utf-8")
    trials = pd.read_csv(out / "search_trials.csv", comment="#")
    assert len(trials) == 12 and "param_dirichlet_n" in trials.columns


def test_not_a_results_directory(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="does not exist"):
        load_results(tmp_path / "nope")
    with pytest.raises(ReportError, match=r"trials\.parquet"):
        load_results(tmp_path)
    (tmp_path / "trials.parquet").write_text("not parquet", encoding="utf-8")
    with pytest.raises(ReportError, match=r"trials\.parquet"):
        load_results(tmp_path)


@pytest.mark.ray
def test_reporting_needs_no_runtime_or_trainer(study_results: Path, tmp_path: Path) -> None:
    """A report runs without Ray, Dask, torch, the runner or the trainer being imported."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mtl_study.report import generate\n"
        f"generate({str(study_results)!r}, {str(tmp_path / 'r')!r})\n"
        "heavy = ('mtl_study.study', 'mtl_study.train', 'ray', 'dask', 'torch')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert (tmp_path / "r" / "report.html").exists()
