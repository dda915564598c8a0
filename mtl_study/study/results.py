"""The results directory (docs/contracts.md section 5): per-trial records, tidy Parquet, manifest.

Each finished trial leaves `runs/<trial_id>/` (history, predictions, `done.json`), written
atomically by the trial itself; a trial is finished iff its `done.json` exists. The study-wide
`trials.parquet` and `predictions.parquet` are rebuilt from those records after every trial,
so an interrupted run leaves readable files and a resumed one skips what is done.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from mtl_study.study.grid import TrialPlan
from mtl_study.study.spec import AXES, Study, StudyError

#: Variant columns of trials.parquet, in order (docs/contracts.md section 5).
VARIANT_COLUMNS: tuple[str, ...] = (
    "trial_id",
    "variant",
    "stage",
    *AXES,
    "transfer",
    "seed",
    "fold",
    "split",
    "status",
    "error",
    "epoch",
)
PREDICTION_COLUMNS: tuple[str, ...] = (
    "trial_id",
    "case_id",
    "task",
    "split",
    "label",
    "pred",
    "prob_0",
    "prob_1",
    "prob_2",
)
#: Packages whose versions the manifest records.
VERSIONED: tuple[str, ...] = (
    "mtl-study",
    "torch",
    "ray",
    "optuna",
    "numpy",
    "pandas",
    "scikit-learn",
    "lightgbm",
    "SimpleITK",
    "pyradiomics-bhklab",
    "dask",
)


@dataclass(frozen=True)
class ResultsDir:
    """Paths inside one results directory."""

    root: Path

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def ray(self) -> Path:
        return self.root / "ray"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def trials(self) -> Path:
        return self.root / "trials.parquet"

    @property
    def predictions(self) -> Path:
        return self.root / "predictions.parquet"

    @property
    def search(self) -> Path:
        return self.root / "search.parquet"

    def run_dir(self, trial_id: str) -> Path:
        return self.runs / trial_id

    def checkpoint_dir(self, trial_id: str) -> Path:
        return self.checkpoints / trial_id


def write_trial_record(
    results: ResultsDir,
    plan: TrialPlan,
    history: list[dict[str, Any]],
    predictions: pd.DataFrame | None,
    status: str,
    error: str = "",
    extra: dict[str, Any] | None = None,
) -> None:
    """Write one trial's record atomically: rows per epoch, predictions and `done.json`.

    Args:
        results: The results directory.
        plan: The trial that ran.
        history: Epoch records (docs/contracts.md section 4), possibly empty for an error.
        predictions: The trial's last-epoch predictions, or None.
        status: `TERMINATED` or `ERROR`.
        error: The reason of an error.
        extra: More per-trial columns (node, attempt, checkpoint path, ...).
    """
    extra = dict(extra or {})
    rows = []
    for record in history or [{"epoch": 0}]:
        row = {
            "trial_id": plan.trial_id,
            "variant": plan.variant,
            "stage": plan.stage,
            **plan.columns,
            "status": status,
            "error": error,
        }
        row.update(record)
        row.update({k: v for k, v in extra.items() if not isinstance(v, dict | list)})
        rows.append(row)
    frame = pd.DataFrame(rows)
    results.runs.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{plan.trial_id}.", dir=results.runs))
    frame.to_parquet(tmp / "history.parquet", index=False)
    if predictions is not None and len(predictions):
        preds = predictions.copy()
        preds.insert(0, "trial_id", plan.trial_id)
        preds["split"] = plan.columns["split"]
        preds = preds.reindex(columns=list(PREDICTION_COLUMNS))
        preds.to_parquet(tmp / "predictions.parquet", index=False)
    done = {"trial_id": plan.trial_id, "status": status, "error": error, **extra}
    (tmp / "done.json").write_text(json.dumps(done, indent=2, default=str), encoding="utf-8")
    final = results.run_dir(plan.trial_id)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


def finished_trials(results: ResultsDir) -> dict[str, dict[str, Any]]:
    """Trial id -> its `done.json` for every trial that must not run again.

    Trials that crashed past their retries (`crashed: true`) are left out: a resumed run
    tries them again, whereas NaN-loss errors are final.
    """
    out = {}
    if not results.runs.is_dir():
        return out
    for done in results.runs.glob("*/done.json"):
        info = json.loads(done.read_text(encoding="utf-8"))
        if not info.get("crashed"):
            out[info["trial_id"]] = info
    return out


def collect(results: ResultsDir) -> pd.DataFrame:
    """Rebuild trials.parquet and predictions.parquet from the per-trial records."""
    histories, predictions = [], []
    for run in sorted(results.runs.glob("*")) if results.runs.is_dir() else []:
        if run.name.startswith(".") or not (run / "done.json").exists():
            continue
        histories.append(pd.read_parquet(run / "history.parquet"))
        if (run / "predictions.parquet").exists():
            predictions.append(pd.read_parquet(run / "predictions.parquet"))
    trials = pd.concat(histories, ignore_index=True) if histories else pd.DataFrame()
    if not trials.empty:
        first = [c for c in VARIANT_COLUMNS if c in trials.columns]
        trials = trials[first + [c for c in trials.columns if c not in first]]
        trials = trials.sort_values(["stage", "trial_id", "epoch"], kind="stable")
        trials = trials.reset_index(drop=True)
        _atomic_parquet(trials, results.trials)
    if predictions:
        frame = pd.concat(predictions, ignore_index=True)
        _atomic_parquet(frame, results.predictions)
    return trials


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def git_revision() -> str:
    """The project's git revision (with `-dirty` when the tree has changes), or `unknown`."""
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev}-dirty" if dirty else rev


def versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on."""
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def prepare(
    results: ResultsDir, study: Study, restart: bool, kind: str = "run"
) -> dict[str, Any] | None:
    """Make the directory ready: start over, resume, or refuse a different study.

    Returns:
        The previous manifest when resuming, else None.

    Raises:
        StudyError: The directory holds a run of a different study (without `restart`).
    """
    if restart and results.root.exists():
        for name in ("runs", "checkpoints", "ray", "cams", "report"):
            shutil.rmtree(results.root / name, ignore_errors=True)
        for name in (
            "manifest.json",
            "study.yaml",
            "trials.parquet",
            "predictions.parquet",
            "search.parquet",
            "optuna.db",
        ):
            (results.root / name).unlink(missing_ok=True)
    results.root.mkdir(parents=True, exist_ok=True)
    if not results.manifest.exists():
        return None
    previous = json.loads(results.manifest.read_text(encoding="utf-8"))
    if previous.get("study_hash") != study.study_hash or previous.get("kind", "run") != kind:
        raise StudyError(
            f"{results.root}: holds a {previous.get('kind', 'run')} of study "
            f"{previous.get('study', {}).get('name')!r} (hash {previous.get('study_hash')}), "
            f"not this {kind} of {study.name!r} (hash {study.study_hash}); "
            "pass --restart to start over or choose another --out"
        )
    return previous


def write_manifest(
    results: ResultsDir,
    study: Study,
    cohort: Path,
    cohort_hash: str,
    kind: str = "run",
    finished: bool = False,
    previous: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write manifest.json and study.yaml (atomically); keeps the first start time."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    manifest = {
        "kind": kind,
        "study": _json_safe(study.raw),
        "study_source": study.source,
        "study_hash": study.study_hash,
        "cohort": str(cohort),
        "cohort_hash": cohort_hash,
        "git_revision": git_revision(),
        "versions": versions(),
        "seeds": list(study.seeds),
        "command": " ".join(sys.argv),
        "started": (previous or {}).get("started", now),
        "finished": now if finished else None,
        "resumed": bool(previous),
        **(extra or {}),
    }
    tmp = results.manifest.with_name(".manifest.json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, results.manifest)
    (results.root / "study.yaml").write_text(study.to_yaml(), encoding="utf-8")


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
