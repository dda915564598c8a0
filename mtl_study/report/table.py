"""The plain data every table is computed into, before any renderer sees it.

A `Table` holds display cells (already formatted, best value per column marked) for Markdown,
LaTeX, HTML and the terminal, plus a tidy DataFrame for CSV, notes, the provenance footer and
which trials fed each row (`mtl-study report --list`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from mtl_study.report.load import Provenance

#: Shown for a cell that has no data (never 0).
MISSING = "—"


class Kind(StrEnum):
    """How a column's numbers are formatted (paper style: 3 decimals, accuracy as %)."""

    SCORE = "score"
    PERCENT = "percent"
    COUNT = "count"
    PVALUE = "p"
    TEXT = "text"


class Better(StrEnum):
    """Which end of a column is best, for marking."""

    HIGH = "high"
    LOW = "low"
    NONE = "none"


@dataclass(frozen=True)
class Stat:
    """Mean, standard deviation (ddof 1) and count of one cell's values."""

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float] | pd.Series | np.ndarray) -> Stat | None:
        """Aggregate the finite values; None when there are none."""
        arr = np.asarray(values, dtype=float)
        arr = arr[np.isfinite(arr)]
        if arr.size == 0:
            return None
        std = float(arr.std(ddof=1)) if arr.size > 1 else float("nan")
        return cls(float(arr.mean()), std, int(arr.size))


def tidy_stat(key: str, stat: Stat | None) -> dict[str, float]:
    """The tidy-CSV columns of one cell: `key` (mean) and `key_std`, NaN when missing."""
    if stat is None:
        return {key: float("nan"), f"{key}_std": float("nan")}
    return {key: stat.mean, f"{key}_std": stat.std}


@dataclass(frozen=True)
class Column:
    """One display column: `key` in the tidy data, a label, an optional group (task)."""

    key: str
    label: str
    group: str = ""
    kind: Kind = Kind.SCORE
    better: Better = Better.HIGH


@dataclass
class Cell:
    """A formatted cell; `value` is what best-marking compares."""

    text: str
    value: float | None = None
    best: bool = False
    marks: str = ""


def format_number(value: float | None, kind: Kind) -> str:
    """Paper formatting of one number; the missing marker for None/NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if kind is Kind.PERCENT:
        return f"{100 * value:.1f}"
    if kind is Kind.COUNT:
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    if kind is Kind.PVALUE:
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    return f"{value:.3f}"


def format_stat(stat: Stat | None, kind: Kind, n_expected: int | None = None) -> str:
    """`mean ± std`, with `(n=k)` when this cell has fewer values than its row."""
    if stat is None:
        return MISSING
    text = format_number(stat.mean, kind)
    if stat.n > 1 and math.isfinite(stat.std):
        text += f" ± {format_number(stat.std, kind)}"
    if n_expected is not None and stat.n != n_expected:
        text += f" (n={stat.n})"
    return text


@dataclass
class Table:
    """One report table, computed; renderers only format it.

    Attributes:
        name: File stem (`diagnosis` -> diagnosis.csv/.md/.tex).
        title: Caption.
        columns: Display columns after the row label.
        rows: Row labels in display order.
        cells: `cells[i][j]` for row i, column j.
        data: Tidy DataFrame written as CSV.
        notes: Footnotes (split, statistics used, markers).
        provenance: Traceability footer.
        sources: Row label -> trial ids aggregated into it.
        row_header: Header of the label column.
    """

    name: str
    title: str
    columns: list[Column]
    rows: list[str]
    cells: list[list[Cell]]
    data: pd.DataFrame
    provenance: Provenance
    notes: list[str] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)
    row_header: str = "model"

    @property
    def grouped(self) -> bool:
        """Whether the columns carry task groups (two-level header)."""
        return any(c.group for c in self.columns)

    def header(self, j: int) -> str:
        """Flat header of column j (`ct AUC`)."""
        col = self.columns[j]
        return f"{col.group} {col.label}".strip()


def build_cells(
    rows: list[str],
    columns: list[Column],
    values: dict[tuple[str, str], Stat | str | float | None],
    counts: dict[str, int] | None = None,
) -> list[list[Cell]]:
    """Format `values[(row, column key)]` and mark the best value of each column.

    Stats print as mean ± std; a cell whose count differs from its row's count (from
    `counts`) says so. Ties for best are all marked.
    """
    cells: list[list[Cell]] = []
    for row in rows:
        line = []
        for col in columns:
            v = values.get((row, col.key))
            if isinstance(v, Stat):
                n = counts.get(row) if counts else None
                line.append(Cell(format_stat(v, col.kind, n), v.mean))
            elif isinstance(v, str):
                line.append(Cell(v or MISSING))
            elif v is None or (isinstance(v, float) and math.isnan(v)):
                line.append(Cell(MISSING))
            else:
                line.append(Cell(format_number(float(v), col.kind), float(v)))
        cells.append(line)
    for j, col in enumerate(columns):
        if col.better is Better.NONE or len(rows) < 2:
            continue
        scored = [c.value for line in cells if (c := line[j]).value is not None]
        if not scored:
            continue
        best = max(scored) if col.better is Better.HIGH else min(scored)
        for line in cells:
            if line[j].value is not None and math.isclose(line[j].value, best, abs_tol=1e-12):
                line[j].best = True
    return cells
