"""The significance table: Holm-adjusted p-values of every row against the baseline row."""

from __future__ import annotations

import pandas as pd

from mtl_study.report.load import Results
from mtl_study.report.rows import row_rank
from mtl_study.report.table import Better, Column, Kind, Table, build_cells

_KINDS = (("auc", "AUC p"), ("accuracy", "accuracy p"), ("seeds", "seeds p"))


def significance_table(results: Results, tests: pd.DataFrame, sources: dict) -> Table | None:
    """Model x task (AUC p, accuracy p, seeds p), from the comparison tables' paired tests."""
    if tests.empty:
        return None
    tasks = list(dict.fromkeys(tests["task"]))
    columns = [
        Column(f"{t}_{kind}", label, t, Kind.PVALUE, Better.NONE)
        for t in tasks
        for kind, label in _KINDS
    ]
    rows = sorted(set(tests["model"]), key=row_rank)
    values = {(r.model, f"{r.task}_{r.kind}"): r.p_holm for r in tests.itertuples()}
    baselines = ", ".join(
        f"{t}: {b}" for t, b in tests.groupby("task", sort=False)["baseline"].first().items()
    )
    compared = set(rows) | set(tests["baseline"])
    ids = {i for r in compared for i in sources.get(r, [])}
    return Table(
        name="significance",
        title="Paired comparisons against the baseline row (Holm-adjusted p)",
        columns=columns,
        rows=rows,
        cells=build_cells(rows, columns, values),
        data=tests.drop(columns=["kind"]).reset_index(drop=True),
        provenance=results.provenance(ids),
        notes=[
            f"Baseline: {baselines}. AUC p: DeLong's test for binary tasks, paired bootstrap "
            "(2000 resamples) of the macro one-vs-rest AUC for severity, on seed-averaged "
            "probabilities of the same cases; accuracy p: McNemar's exact test on the same "
            "cases; seeds p: paired t-test of per-seed AUC matched by seed/fold. Holm's "
            "adjustment over the rows of each task and test."
        ],
        sources={r: sources.get(r, []) for r in rows},
    )
