"""Search summaries: the best configuration of every Optuna search, and metric vs parameter.

Reads search.parquet (one row per Optuna trial: search, number, state, value, metric,
direction, param_<name>...). Only COMPLETE trials count towards the best value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mtl_study.report.load import Results
from mtl_study.report.table import Better, Column, Kind, Stat, Table, build_cells

COMPLETE = "COMPLETE"


def param_columns(frame: pd.DataFrame) -> list[str]:
    """The searched parameters (`param_<name>` columns) that hold at least one value."""
    return [c for c in frame.columns if c.startswith("param_") and frame[c].notna().any()]


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def search_summary(results: Results) -> Table | None:
    """One row per search: metric, direction, trials (complete/total), best value and params."""
    frame = results.search
    if frame is None or frame.empty:
        return None
    columns = [
        Column("metric", "metric", kind=Kind.TEXT, better=Better.NONE),
        Column("direction", "direction", kind=Kind.TEXT, better=Better.NONE),
        Column("trials", "trials (complete/all)", kind=Kind.TEXT, better=Better.NONE),
        Column("best", "best value", kind=Kind.SCORE, better=Better.NONE),
        Column("completed", "value (complete trials)", kind=Kind.SCORE, better=Better.NONE),
        Column("params", "best configuration", kind=Kind.TEXT, better=Better.NONE),
    ]
    values: dict = {}
    records, rows = [], []
    for name, sub in frame.groupby("search", sort=True):
        row = str(name)
        rows.append(row)
        done = sub[(sub["state"] == COMPLETE) & sub["value"].notna()]
        direction = str(sub["direction"].iloc[0])
        params = param_columns(sub)
        rec = {
            "search": row,
            "metric": str(sub["metric"].iloc[0]),
            "direction": direction,
            "n_trials": len(sub),
            "n_complete": len(done),
        }
        values[(row, "metric")] = rec["metric"]
        values[(row, "direction")] = direction
        values[(row, "trials")] = f"{len(done)}/{len(sub)}"
        values[(row, "completed")] = Stat.of(done["value"])
        if done.empty:
            values[(row, "params")] = ""
            rec["best_value"] = np.nan
        else:
            best = done.loc[
                done["value"].idxmax() if direction.startswith("max") else done["value"].idxmin()
            ]
            rec["best_value"] = float(best["value"])
            rec["best_number"] = int(best["number"])
            values[(row, "best")] = float(best["value"])
            shown = []
            for p in params:
                rec[p] = best[p]
                shown.append(f"{p.removeprefix('param_')}={_fmt(best[p])}")
            values[(row, "params")] = ", ".join(shown)
        records.append(rec)
    return Table(
        name="search",
        title="Searches: best configuration per Optuna search",
        columns=columns,
        rows=rows,
        cells=build_cells(rows, columns, values),
        data=pd.DataFrame(records),
        provenance=results.provenance(
            [f"{s}#{n}" for s, n in zip(frame["search"], frame["number"], strict=True)]
        ),
        notes=[
            "best value over COMPLETE trials in the search's direction; "
            "value (complete trials) = mean ± std over them. Figures search_<param>.png plot "
            "the metric against each parameter."
        ],
        sources={r: [] for r in rows},
        row_header="search",
    )
