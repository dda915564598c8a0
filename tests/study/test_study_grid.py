"""Grid expansion: variants x seeds x folds, stable unique ids, transfer as a second stage."""

from __future__ import annotations

import math

from mtl_study.study.grid import expand, transfer_plans
from mtl_study.study.spec import load_study, study_from_dict


def test_loss_by_shift3d_grid_with_seeds(tiny_study) -> None:
    study = study_from_dict(
        tiny_study(
            grid=[
                {
                    "model": "covid_mtl",
                    "loss": ["uncertainty", "random_weighted", "mean"],
                    "shift3d": [True, False],
                    "dirichlet_n": 4,
                    "max_shift": 0.3,
                }
            ],
            seeds=[0, 1],
        )
    )
    plans = expand(study)
    assert len(plans) == 12
    assert len({p.trial_id for p in plans}) == 12
    assert [p.trial_id for p in plans] == [p.trial_id for p in expand(study)]
    rw = [p for p in plans if p.columns["loss"] == "random_weighted"]
    assert all(p.spec["loss_options"] == {"n": 4} for p in rw)
    assert all(p.columns["dirichlet_n"] == 4.0 for p in rw)
    mean = [p for p in plans if p.columns["loss"] == "mean"]
    assert all(p.spec["loss_options"] == {} and math.isnan(p.columns["dirichlet_n"]) for p in mean)
    on = [p for p in plans if p.columns["shift3d"]]
    assert len(on) == 6 and all(p.spec["model_options"]["max_shift"] == 0.3 for p in on)
    off = [p for p in plans if not p.columns["shift3d"]]
    assert all(math.isnan(p.columns["max_shift"]) for p in off)
    assert {p.columns["seed"] for p in plans} == {0, 1}
    assert all(p.spec["evaluate"] == "test" and p.columns["fold"] == -1 for p in plans)
    assert all(p.columns["split"] == "test" for p in plans)


def test_cv_expands_folds_and_tasks_axis(tiny_study) -> None:
    study = study_from_dict(
        tiny_study(
            grid=[{"model": "squeezenet3d", "tasks": [["ct"], ["nat"]]}],
            evaluate="cv",
            folds=3,
        )
    )
    plans = expand(study)
    assert len(plans) == 6
    assert {p.columns["tasks"] for p in plans} == {"ct", "nat"}
    assert sorted({p.columns["fold"] for p in plans}) == [0, 1, 2]
    assert all(
        p.spec["evaluate"] == "validation" and p.columns["split"] == "validation" for p in plans
    )


def test_afnn_axis_sets_inputs_and_block_train_overrides(tiny_study) -> None:
    study = study_from_dict(
        tiny_study(grid=[{"model": "covid_mtl", "afnn": [True, False], "train": {"epochs": 1}}])
    )
    plans = expand(study)
    assert {p.spec["inputs"] for p in plans} == {"both", "volume"}
    assert [p.columns["afnn"] for p in plans] == [True, False]
    assert all(p.spec["train"] == {"epochs": 1, "batch_size": 8} for p in plans)


def test_transfer_plans_follow_selected_two_task_sources() -> None:
    study = load_study("quick")
    main = expand(study)
    assert len(main) == 6
    transfer = transfer_plans(study, main)
    assert [p.columns["transfer"] for p in transfer] == ["keep", "remove"]
    source = {p.source_trial for p in transfer}
    assert len(source) == 1
    (src,) = [p for p in main if p.trial_id in source]
    assert src.columns["loss"] == "random_weighted" and src.columns["shift3d"]
    for plan in transfer:
        assert plan.stage == "transfer" and plan.spec["tasks"] == ["severity"]
        assert plan.spec["transfer"]["keep_shift3d"] is (plan.columns["transfer"] == "keep")
        assert plan.spec["train"]["epochs"] == study.transfer["epochs"]
