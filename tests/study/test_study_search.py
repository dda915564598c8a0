"""Optuna search through Ray Tune: persisted in SQLite, resumed after a crash, test once."""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
import pytest

from mtl_study.study.search import run_search
from mtl_study.study.spec import study_from_dict

pytestmark = pytest.mark.ray


def test_search_persists_resumes_and_recovers_stale_trials(
    tmp_path: Path, tiny_cohort: Path, local_ray, tiny_study, done_mtimes
) -> None:
    study = study_from_dict(
        tiny_study(
            grid=[{"model": "covid_mtl", "loss": "random_weighted", "tasks": ["ct", "nat"]}],
            train={"epochs": 1, "batch_size": 8},
            evaluate="cv",
            folds=2,
        )
    )
    out = tmp_path / "search"
    common = {
        "spaces": ["dirichlet_n"],
        "out": out,
        "data": tiny_cohort,
        "progress": False,
        "report": False,
        "sampler": "random",
    }
    run_search(study, n_trials=2, final=False, **common)
    url = f"sqlite:///{out / 'optuna.db'}"
    name = "tiny:dirichlet_n"
    first = optuna.load_study(study_name=name, storage=url)
    done = {t.number: (t.params, t.value) for t in first.trials}
    assert len(done) == 2 and all(t.state.name == "COMPLETE" for t in first.trials)
    before = done_mtimes(out)
    assert sorted(before) == [f"search-{n:04d}-s0-f{f}" for n in (0, 1) for f in (0, 1)]

    stale = first.ask({"dirichlet_n": optuna.distributions.IntDistribution(1, 32, log=True)})
    assert first.trials[-1].state.name == "RUNNING"  # what a killed driver leaves behind

    run_search(study, n_trials=4, final=True, **common)
    resumed = optuna.load_study(study_name=name, storage=url)
    states = [t.state.name for t in resumed.trials]
    assert states.count("COMPLETE") == 4 and states.count("FAIL") == 1
    assert resumed.trials[stale.number].state.name == "FAIL"
    requeued = [t for t in resumed.trials if t.number > stale.number]
    assert stale.params["dirichlet_n"] in [t.params["dirichlet_n"] for t in requeued]
    for number, (params, value) in done.items():  # finished trials kept, not re-run
        assert (resumed.trials[number].params, resumed.trials[number].value) == (params, value)
    after = done_mtimes(out)
    assert {t: after[t] for t in before} == before

    table = pd.read_parquet(out / "search.parquet")
    assert len(table) == 5 and set(table["state"]) == {"COMPLETE", "FAIL"}
    assert {"search", "number", "value", "metric", "direction", "param_dirichlet_n"} <= set(table)
    best = table[table["state"] == "COMPLETE"]["value"].max()
    assert best == pytest.approx(resumed.best_value)

    trials = pd.read_parquet(out / "trials.parquet")
    search = trials[trials["stage"] == "search"]
    assert (search["split"] == "validation").all() and set(search["fold"]) == {0, 1}
    final = trials[trials["stage"] == "final"]
    assert len(final) == 1 and final["split"].iloc[0] == "test"
    assert final["dirichlet_n"].iloc[0] == resumed.best_params["dirichlet_n"]
    cv = search.groupby("trial_id")["mean_auc"].last()
    best_number = resumed.best_trial.number
    folds = cv[[f"search-{best_number:04d}-s0-f{f}" for f in (0, 1)]]
    assert folds.mean() == pytest.approx(resumed.best_value)
