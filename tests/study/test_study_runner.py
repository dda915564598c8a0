"""A tiny study end to end on a real local Ray runtime: results files, errors, resume, kill."""

from __future__ import annotations

import io
import ipaddress
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml
from rich.console import Console

from mtl_study.study.results import PREDICTION_COLUMNS, VARIANT_COLUMNS
from mtl_study.study.runner import run_study
from mtl_study.study.spec import StudyError, study_from_dict

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ablation(tmp_path_factory, tiny_cohort: Path, local_ray, tiny_study) -> tuple[Path, dict]:
    """Two losses + transfer, a NaN-loss block and a block that raises (retried once)."""
    data = tiny_study(
        grid=[
            {"model": "covid_mtl", "loss": ["random_weighted", "mean"], "tasks": ["ct", "nat"]},
            {
                "model": "covid_mtl",
                "name": "diverges",
                "loss": "mean",
                "tasks": ["ct", "nat"],
                "train": {"lr_max": 1e12, "lr_min": 1e12},
            },
            {
                "model": "covid_mtl",
                "name": "crashes",
                "loss": "mean",
                "tasks": ["ct", "nat"],
                "model_options": {"dropout": "high"},
            },
        ],
        transfer={"source": {"loss": "random_weighted"}, "epochs": 1},
        max_failures=1,
    )
    out = tmp_path_factory.mktemp("ablation")
    run_study(study_from_dict(data), out, data=tiny_cohort, progress=False, report=False)
    return out, data


def test_results_directory_holds_tidy_parquet_and_manifest(ablation, tiny_cohort: Path) -> None:
    out, _ = ablation
    trials = pd.read_parquet(out / "trials.parquet")
    assert list(trials.columns[: len(VARIANT_COLUMNS)]) == list(VARIANT_COLUMNS)
    last = trials.groupby("trial_id").tail(1).set_index("trial_id")
    assert len(last) == 6
    done = last[last["status"] == "TERMINATED"]
    assert set(done["stage"]) == {"main", "transfer"}
    assert len(done) == 4
    main = trials[(trials["stage"] == "main") & (trials["status"] == "TERMINATED")]
    assert sorted(main["epoch"].unique()) == [1, 2]
    assert main["ct_auc"].between(0, 1).all() and main["nat_accuracy"].between(0, 1).all()
    assert set(main["loss"]) == {"random_weighted", "mean"}
    assert (main["split"] == "test").all() and (main["fold"] == -1).all()
    transfer = done[done["stage"] == "transfer"]
    assert sorted(transfer["transfer"]) == ["keep", "remove"]
    assert (transfer["tasks"] == "severity").all()
    assert transfer["severity_auc"].notna().all()
    assert (done["node_ip"] == "127.0.0.1").all()

    preds = pd.read_parquet(out / "predictions.parquet")
    assert list(preds.columns) == list(PREDICTION_COLUMNS)
    assert set(preds["trial_id"]) == set(done.index)
    sums = preds[preds["task"] == "ct"][["prob_0", "prob_1"]].sum(axis=1)
    assert ((sums - 1).abs() < 1e-4).all()
    assert preds[preds["task"] == "severity"]["prob_2"].notna().all()

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for key in (
        "study",
        "study_hash",
        "cohort",
        "cohort_hash",
        "git_revision",
        "versions",
        "seeds",
        "command",
        "started",
        "finished",
    ):
        assert manifest[key] is not None, key
    assert manifest["cohort"] == str(tiny_cohort.resolve())
    assert manifest["versions"]["ray"] and manifest["versions"]["torch"]
    assert yaml.safe_load((out / "study.yaml").read_text(encoding="utf-8"))["name"] == "tiny"


def test_nan_loss_and_crashing_trials_end_as_errors_with_reasons(ablation) -> None:
    out, _ = ablation
    trials = pd.read_parquet(out / "trials.parquet")
    last = trials.groupby("trial_id").tail(1).set_index("trial_id")
    nan = last.loc[[i for i in last.index if "diverges" in i]].iloc[0]
    assert nan["status"] == "ERROR" and "NonFiniteLossError" in nan["error"]
    assert nan["attempts"] == 1  # a diverging loss is final: no retry
    crash = last.loc[[i for i in last.index if "crashes" in i]].iloc[0]
    assert crash["status"] == "ERROR" and "dropout" in crash["error"]
    assert crash["attempts"] == 2  # first try + max_failures=1 retry


def test_resume_skips_finished_trials_and_refuses_other_study(
    ablation, tiny_cohort: Path, done_mtimes
) -> None:
    out, data = ablation
    before = done_mtimes(out)
    crashed = [t for t in before if "crashes" in t]
    console = Console(file=io.StringIO(), width=160)
    run_study(study_from_dict(data), out, data=tiny_cohort, progress=False, console=console)
    after = done_mtimes(out)
    printed = console.file.getvalue()
    assert "Loss ablation" in printed and "Transfer" in printed  # the report's main tables
    assert (out / "report").is_dir()
    kept = {t: m for t, m in before.items() if t not in crashed}
    assert {t: after[t] for t in kept} == kept  # finished (and NaN) trials not re-run
    assert all(after[t] != before[t] for t in crashed)  # crashes are retried on resume
    other = dict(data, seeds=[5])
    with pytest.raises(StudyError, match="--restart"):
        run_study(study_from_dict(other), out, data=tiny_cohort, progress=False, report=False)


def test_local_runtime_listens_on_loopback_only(local_ray) -> None:
    import ray

    node = ray.nodes()[0]
    assert node["NodeManagerAddress"] == "127.0.0.1"
    ray_pids = {
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if any("ray" in part for part in (p.info["cmdline"] or [])[:3])
        and _descends_from(p, os.getpid())
    }
    assert ray_pids
    listening = [
        c
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in ray_pids
    ]
    assert listening
    exposed = [c.laddr for c in listening if not _loopback(c.laddr.ip)]
    assert not exposed, f"Ray listens beyond loopback: {exposed}"


def _loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _descends_from(proc: psutil.Process, ancestor: int) -> bool:
    try:
        return any(p.pid == ancestor for p in proc.parents())
    except psutil.Error:
        return False


def test_killed_driver_resumes_without_rerunning_finished_trials(
    tmp_path: Path, tiny_cohort: Path, local_ray, tiny_study, done_mtimes
) -> None:
    data = tiny_study(
        grid=[
            {
                "model": "covid_mtl",
                "loss": ["random_weighted", "mean"],
                "shift3d": [True, False],
                "tasks": ["ct", "nat"],
            }
        ],
        max_concurrent=1,
    )
    study_file = tmp_path / "kill.yaml"
    study_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-c",
        "from mtl_study.cli.main import app; app()",
        "run",
        str(study_file),
        "--data",
        str(tiny_cohort),
        "--out",
        str(out),
        "--no-progress",
        "--no-report",
    ]
    driver = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not done_mtimes(out):
        assert driver.poll() is None, "driver ended before it could be killed"
        time.sleep(0.5)
    children = psutil.Process(driver.pid).children(recursive=True)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    before = done_mtimes(out)
    assert 1 <= len(before) < 4
    _, alive = psutil.wait_procs(children, timeout=30)
    for proc in alive:  # Ray fate-shares with its driver; clean up whatever did not
        proc.kill()

    run_study(study_from_dict(data), out, data=tiny_cohort, progress=False, report=False)
    after = done_mtimes(out)
    assert len(after) == 4
    assert {t: after[t] for t in before} == before
    trials = pd.read_parquet(out / "trials.parquet")
    assert trials.groupby("trial_id")["epoch"].max().eq(2).all()
    assert (trials["status"] == "TERMINATED").all()
    assert not math.isnan(trials["mean_auc"].iloc[-1])
