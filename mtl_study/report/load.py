"""Read a results directory (docs/contracts.md section 5) into plain DataFrames.

Reporting never imports the runner or the trainer: everything comes from the stored files, so
a report can be made on a laptop from a study that ran on a cluster, or while it still runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mtl_study.report.rows import add_row_names

#: Status of a trial that ran to its end (SPEC 5: its last epoch is what counts).
FINISHED = "TERMINATED"


class ReportError(RuntimeError):
    """A results or cohort directory cannot be reported on; the message names the file."""


@dataclass(frozen=True)
class Provenance:
    """What every table file carries so a number can be traced back to its trials."""

    results_dir: str
    study_hash: str
    cohort_hash: str
    n_trials: int

    def lines(self) -> list[str]:
        """Footer lines, one fact each."""
        return [
            f"results: {self.results_dir}",
            f"study hash: {self.study_hash}",
            f"cohort hash: {self.cohort_hash}",
            f"trials aggregated: {self.n_trials}",
        ]


@dataclass
class Results:
    """A loaded results directory.

    Attributes:
        root: The results directory.
        manifest: Parsed manifest.json (empty when absent).
        trials: Every stored trial x epoch row, plus a `row` column (SPEC 7 row name).
        predictions: Per trial x case x task predictions, or None.
        search: One row per Optuna trial, or None.
    """

    root: Path
    manifest: dict
    trials: pd.DataFrame
    predictions: pd.DataFrame | None = None
    search: pd.DataFrame | None = None
    _final: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def final(self) -> pd.DataFrame:
        """Last epoch of every finished trial: the rows that feed the tables (SPEC 5)."""
        if self._final is None:
            done = self.trials[self.trials["status"] == FINISHED]
            if done.empty:
                self._final = done.copy()
            else:
                last = done.sort_values("epoch").groupby("trial_id", sort=False).tail(1)
                self._final = last.sort_values("trial_id").reset_index(drop=True)
        return self._final

    @property
    def errors(self) -> pd.DataFrame:
        """One row per trial that ended with an error."""
        bad = self.trials[self.trials["status"] == "ERROR"]
        return bad.groupby("trial_id", sort=True).tail(1)

    @property
    def cohort_root(self) -> Path | None:
        """The cohort the study ran on, when manifest.json names one that still exists."""
        cohort = self.manifest.get("cohort")
        if not cohort:
            return None
        path = Path(cohort)
        if not path.is_absolute():
            path = (self.root / path).resolve()
        return path if path.is_dir() else None

    def provenance(self, trial_ids: set[str] | list[str]) -> Provenance:
        """Traceability footer for a table built from `trial_ids`."""
        return Provenance(
            results_dir=str(self.root),
            study_hash=str(self.manifest.get("study_hash", "unknown")),
            cohort_hash=str(self.manifest.get("cohort_hash", "unknown")),
            n_trials=len(set(trial_ids)),
        )


def _read_parquet(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise ReportError(f"{path}: cannot read parquet file ({exc})") from exc


def load_results(root: str | Path) -> Results:
    """Load a results directory; tolerant of a study that is still running.

    Raises:
        ReportError: The directory does not exist, holds none of the result files, or a file
            is unreadable.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise ReportError(f"{root}: results directory does not exist")
    manifest: dict = {}
    manifest_path = root / "manifest.json"
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ReportError(f"{manifest_path}: invalid JSON ({exc})") from exc
    trials = _read_parquet(root / "trials.parquet")
    predictions = _read_parquet(root / "predictions.parquet")
    search = _read_parquet(root / "search.parquet")
    if trials is None and search is None:
        raise ReportError(
            f"{root}: neither trials.parquet nor search.parquet found; is this a results directory?"
        )
    if trials is None:
        trials = pd.DataFrame(columns=["trial_id", "status", "epoch", "stage"])
    return Results(
        root=root,
        manifest=manifest,
        trials=add_row_names(trials),
        predictions=predictions,
        search=search,
    )
