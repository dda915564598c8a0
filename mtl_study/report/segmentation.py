"""Segmentation comparison (SPEC 7): method x Dice, Jaccard, MCC, precision, lesion coverage.

Reads COHORT/preprocessed/segmentation.csv (case_id, method, dice, jaccard, mcc, precision,
lesion_coverage), written by `mtl-study preprocess`; cells are mean ± std over cases.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mtl_study.report.load import Provenance, ReportError
from mtl_study.report.table import Better, Column, Kind, Stat, Table, build_cells, tidy_stat

METRICS = (
    ("dice", "Dice"),
    ("jaccard", "Jaccard"),
    ("mcc", "MCC"),
    ("precision", "precision"),
    ("lesion_coverage", "lesion coverage"),
)
#: Classical first, then the paper's refinement, then anything else by name.
METHOD_ORDER = ("classical", "refined")


def segmentation_csv(cohort: Path) -> Path:
    """Where preprocessing writes the per-case segmentation metrics."""
    return Path(cohort) / "preprocessed" / "segmentation.csv"


def segmentation(cohort: str | Path, study_hash: str = "n/a") -> Table | None:
    """Segmentation table of a cohort; None when the cohort has no segmentation.csv.

    Raises:
        ReportError: The CSV lacks the `method` column.
    """
    path = segmentation_csv(Path(cohort))
    if not path.exists():
        return None
    frame = pd.read_csv(path)
    if "method" not in frame.columns:
        raise ReportError(f"{path}: no 'method' column")
    if frame.empty:
        return None
    present = [(k, label) for k, label in METRICS if k in frame.columns]
    columns = [Column("cases", "cases", kind=Kind.COUNT, better=Better.NONE)]
    columns += [Column(k, label) for k, label in present]
    methods = sorted(
        frame["method"].astype(str).unique(),
        key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER), m),
    )
    values: dict = {}
    records = []
    for m in methods:
        sub = frame[frame["method"].astype(str) == m]
        values[(m, "cases")] = float(len(sub))
        rec = {"method": m, "n_cases": len(sub)}
        for key, _ in present:
            stat = Stat.of(sub[key])
            values[(m, key)] = stat
            rec.update(tidy_stat(key, stat))
        records.append(rec)
    cohort_hash = _cohort_hash(Path(cohort))
    return Table(
        name="segmentation",
        title="Lung segmentation against reference masks",
        columns=columns,
        rows=methods,
        cells=build_cells(methods, columns, values),
        data=pd.DataFrame(records),
        provenance=Provenance(str(path), study_hash, cohort_hash, 0),
        notes=[
            "mean ± std over cases; best per column in bold; lesion coverage = fraction of "
            "the lesion mask inside the predicted lung mask."
        ],
        sources={m: [] for m in methods},
        row_header="method",
    )


def _cohort_hash(cohort: Path) -> str:
    meta = cohort / "cohort.yaml"
    if meta.exists():
        import yaml

        data = yaml.safe_load(meta.read_text(encoding="utf-8")) or {}
        return str(data.get("content_hash", "unknown"))
    return "unknown"
