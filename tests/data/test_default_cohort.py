"""The embedded default cohort is generated once, cached, and safe under concurrent first use."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mtl_study.data.cohort import load_cohort
from mtl_study.data.default import cache_dir, default_cohort

ARGS = {"n_cases": 20, "seed": 2, "shape": (16, 32, 32)}


def test_cached_after_first_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTL_STUDY_CACHE", str(tmp_path / "cache"))
    assert cache_dir() == tmp_path / "cache"
    first = default_cohort(**ARGS)
    assert first.parent == tmp_path / "cache"
    stamp = (first / "manifest.parquet").stat().st_mtime_ns
    start = time.perf_counter()
    again = default_cohort(**ARGS)
    assert again == first and time.perf_counter() - start < 0.5
    assert (first / "manifest.parquet").stat().st_mtime_ns == stamp  # not regenerated
    cohort = load_cohort(first)
    assert len(cohort.manifest) == 20 and cohort.meta["name"] == first.name


def test_concurrent_first_use(tmp_path: Path) -> None:
    env = {**os.environ, "MTL_STUDY_CACHE": str(tmp_path / "cache")}
    code = (
        "from mtl_study.data.default import default_cohort;"
        f"print(default_cohort(n_cases={ARGS['n_cases']}, seed={ARGS['seed']},"
        f" shape={ARGS['shape']}))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    paths = {proc.communicate(timeout=120)[0].strip() for proc in procs}
    assert all(proc.returncode == 0 for proc in procs)
    assert len(paths) == 1
    cohort = load_cohort(paths.pop())
    assert len(cohort.manifest) == 20
    leftovers = [p for p in (tmp_path / "cache").iterdir() if p.is_dir() and p.name.startswith(".")]
    assert leftovers == []  # no half-written staging directories
