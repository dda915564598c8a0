"""The cohort pipeline on a real 2-worker LocalCluster: outputs, failures, resume after kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mtl_study.cli.main import app
from mtl_study.data.cohort import load_cohort
from mtl_study.preprocess import store
from mtl_study.preprocess.radiomics import get_feature_set

CROP = (32, 48, 48)


def test_cli_preprocess_records_failures_and_finishes_the_rest(
    synthetic_cohort: Path,
) -> None:
    cohort = load_cohort(synthetic_cohort)
    broken, missing = cohort.case_ids[2], cohort.case_ids[5]
    cohort.image_path(broken).write_bytes(b"not a scan at all")
    cohort.image_path(missing).unlink()
    result = CliRunner().invoke(
        app,
        [
            "preprocess",
            str(synthetic_cohort),
            "--workers",
            "2",
            "--feature-set",
            "firstorder",
            "--crop-shape",
            *map(str, CROP),
            "--no-progress",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "2 failed" in result.output and broken in result.output and missing in result.output
    failures = pd.read_csv(synthetic_cohort / "preprocessed" / "failures.csv")
    assert sorted(failures["case_id"]) == sorted([broken, missing])
    assert failures["stage"].tolist() == ["read", "read"]
    assert failures["error"].str.contains("no such file|corrupt").all()
    done = store.finished_cases(synthetic_cohort)
    assert done == set(cohort.case_ids) - {broken, missing}

    reloaded = load_cohort(synthetic_cohort, check_paths=False)
    assert reloaded.meta["preprocess"]["crop_shape"] == list(CROP)
    assert reloaded.meta["preprocess"]["segmenter"] == "refined"
    assert set(reloaded.features["case_id"]) == done
    assert reloaded.feature_names == list(get_feature_set("firstorder").columns)
    volume = store.load_volume(synthetic_cohort, sorted(done)[0])
    mask = store.load_mask(synthetic_cohort, sorted(done)[0])
    assert volume.shape == mask.shape == CROP and volume.dtype == np.uint16
    assert volume[~mask].max() == 0 and mask.sum() > 1000

    table = pd.read_csv(synthetic_cohort / "preprocessed" / "segmentation.csv")
    assert set(table["method"]) == {"classical", "refined"}
    assert len(table) == 2 * len(done)
    means = table.groupby("method")[["dice", "lesion_coverage"]].mean()
    assert means.loc["refined", "dice"] > means.loc["classical", "dice"]
    assert means.loc["refined", "lesion_coverage"] > means.loc["classical", "lesion_coverage"]


def _stamp(root: Path, case: str) -> int:
    return (store.case_dir(root, case) / store.CASE_FILE).stat().st_mtime_ns


def test_killed_run_resumes_without_recomputing(synthetic_cohort: Path) -> None:
    command = [
        sys.executable,
        "-c",
        "from mtl_study.cli.main import app; app()",
        "preprocess",
        str(synthetic_cohort),
        "-j",
        "1",
        "-f",
        "none",
        "--crop-shape",
        *map(str, CROP),
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while not store.finished_cases(synthetic_cohort) and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"preprocess exited early: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    survivors = store.finished_cases(synthetic_cohort)
    assert survivors, "no case finished before the kill"
    stamps = {c: _stamp(synthetic_cohort, c) for c in survivors}

    from distributed import LocalCluster

    from mtl_study.preprocess.pipeline import preprocess_cohort

    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster:  # the --dask-address path: an already running scheduler
        summary = preprocess_cohort(
            synthetic_cohort,
            feature_set=None,
            crop_shape=CROP,
            dask_address=cluster.scheduler_address,
            progress=True,
        )
    assert set(summary.skipped) == survivors
    assert set(summary.processed) == set(load_cohort(synthetic_cohort).case_ids) - survivors
    assert summary.failures.empty
    for case, stamp in stamps.items():
        assert _stamp(synthetic_cohort, case) == stamp
    leftovers = [p.name for p in store.preprocessed_dir(synthetic_cohort).iterdir()]
    assert not [n for n in leftovers if n.startswith(".")], leftovers
    meta = yaml.safe_load((synthetic_cohort / "cohort.yaml").read_text(encoding="utf-8"))
    assert meta["preprocess"]["feature_set"] is None
    assert meta["preprocess"]["finished"] == summary.total

    again = preprocess_cohort(
        synthetic_cohort, feature_set=None, crop_shape=CROP, workers=2, progress=False
    )
    assert again.processed == [] and len(again.skipped) == again.total
