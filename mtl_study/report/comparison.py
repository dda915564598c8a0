"""Diagnosis and severity comparison tables (SPEC 7), with paired significance tests.

Each row aggregates the last epoch of its finished trials: mean ± std over seeds (or folds).
A row reads the test split when it has test trials, else cross-validation; the `split` column
says which. Each row is compared with a baseline row on the same cases: DeLong (binary AUC),
a paired bootstrap (severity macro AUC), McNemar (accuracy), a paired t-test over seeds (AUC),
all Holm-adjusted over the rows of a task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mtl_study.data.schema import CLASS_NAMES, TASKS
from mtl_study.report import stats
from mtl_study.report.load import Results
from mtl_study.report.rows import ROW_ORDER, row_rank
from mtl_study.report.table import Better, Column, Kind, Stat, Table, build_cells, tidy_stat

METRICS: tuple[tuple[str, str, Kind], ...] = (
    ("precision", "precision", Kind.SCORE),
    ("recall", "recall", Kind.SCORE),
    ("f1", "F1", Kind.SCORE),
    ("accuracy", "accuracy (%)", Kind.PERCENT),
    ("auc", "AUC", Kind.SCORE),
)
#: Stages whose trials feed the comparison tables.
COMPARED_STAGES = ("main", "final", "transfer")
#: Holm-adjusted p below this marks a cell.
ALPHA = 0.05
MARKS = {"auc": "†", "accuracy": "‡", "seeds": "§"}


@dataclass
class RowTrials:
    """The finished trials of one row for one task, on the split the row is reported on."""

    row: str
    split: str
    frame: pd.DataFrame

    @property
    def split_label(self) -> str:
        if self.split == "test":
            return "test"
        folds = self.frame["fold"].nunique() if "fold" in self.frame else 0
        return f"CV ({folds} folds)" if folds > 1 else "validation"


def _has_task(tasks: object, task: str) -> bool:
    return task in str(tasks).split(",")


def row_trials(results: Results, task: str, stages=COMPARED_STAGES) -> dict[str, RowTrials]:
    """Finished trials per row that evaluated `task`, test split preferred."""
    final = results.final
    if final.empty or f"{task}_auc" not in final.columns:
        return {}
    sel = final[final["stage"].isin(stages) & final["tasks"].map(lambda t: _has_task(t, task))]
    out = {}
    for row, frame in sel.groupby("row", sort=False):
        split = "test" if (frame["split"] == "test").any() else "validation"
        out[row] = RowTrials(row, split, frame[frame["split"] == split])
    return dict(sorted(out.items(), key=lambda kv: row_rank(kv[0])))


def default_baseline(rows: list[str]) -> str | None:
    """The proposed model: the highest-ordered COVID-MTL row that is not a transfer row."""
    candidates = [r for r in rows if r.startswith("COVID-MTL") and "(transfer)" not in r]
    if not candidates:
        return rows[-1] if rows else None
    return max(candidates, key=row_rank)


def _case_probs(results: Results, rt: RowTrials, task: str) -> pd.DataFrame | None:
    """Seed-averaged probabilities per case (so CV folds and seeds both reduce to one score)."""
    pred = results.predictions
    if pred is None or pred.empty:
        return None
    sel = pred[
        pred["trial_id"].isin(rt.frame["trial_id"])
        & (pred["task"] == task)
        & (pred["split"] == rt.split)
    ]
    if sel.empty:
        return None
    cols = [f"prob_{k}" for k in range(TASKS[task])]
    agg = sel.groupby("case_id")[[*cols, "label"]].mean()
    agg["label"] = agg["label"].round().astype(int)
    return agg


def _seed_values(rt: RowTrials, task: str) -> pd.Series:
    keys = rt.frame["seed"].astype(str) + "/" + rt.frame["fold"].astype(str)
    return pd.Series(rt.frame[f"{task}_auc"].to_numpy(float), index=keys).groupby(level=0).mean()


def significance(
    results: Results, task: str, trials: dict[str, RowTrials], baseline: str
) -> pd.DataFrame:
    """Paired tests of every row against `baseline` for one task, Holm-adjusted per test.

    Returns:
        Tidy frame: model, baseline, task, test, metric, statistic, p, p_holm, n_cases/n_pairs.
    """
    base = trials[baseline]
    base_probs = _case_probs(results, base, task)
    base_seeds = _seed_values(base, task)
    records = []
    for row, rt in trials.items():
        if row == baseline:
            continue
        probs = _case_probs(results, rt, task)
        if probs is not None and base_probs is not None:
            both = probs.index.intersection(base_probs.index)
            a, b = probs.loc[both], base_probs.loc[both]
            cols = [f"prob_{k}" for k in range(TASKS[task])]
            y = b["label"].to_numpy()
            if len(both) and len(np.unique(y)) > 1:
                if TASKS[task] == 2:
                    res = stats.delong(y, a["prob_1"].to_numpy(), b["prob_1"].to_numpy())
                else:
                    res = stats.bootstrap_auc(y, a[cols].to_numpy(), b[cols].to_numpy())
                records.append((row, "auc", res, len(both)))
            if len(both):
                ok_a = a[cols].to_numpy().argmax(1) == y
                ok_b = b[cols].to_numpy().argmax(1) == y
                records.append((row, "accuracy", stats.mcnemar(ok_a, ok_b), len(both)))
        seeds = _seed_values(rt, task)
        common = seeds.index.intersection(base_seeds.index)
        res = stats.paired_seeds(seeds.loc[common].to_numpy(), base_seeds.loc[common].to_numpy())
        records.append((row, "seeds", res, len(common)))
    frame = pd.DataFrame(
        [
            {
                "model": row,
                "baseline": baseline,
                "task": task,
                "test": res.method,
                "metric": "auc" if kind == "seeds" else kind,
                "kind": kind,
                "statistic": res.statistic,
                "p": res.p,
                "n": n,
            }
            for row, kind, res, n in records
        ],
        columns=["model", "baseline", "task", "test", "metric", "kind", "statistic", "p", "n"],
    )
    frame["p_holm"] = np.nan
    for _, idx in frame.groupby("kind").groups.items():
        frame.loc[idx, "p_holm"] = stats.holm(frame.loc[idx, "p"].to_numpy())
    return frame


def _comparison(
    results: Results,
    name: str,
    title: str,
    tasks: tuple[str, ...],
    extra: tuple[tuple[str, str, Kind], ...],
    baseline: str | None,
    exclude_transfer: bool,
) -> tuple[Table, pd.DataFrame] | None:
    per_task = {t: row_trials(results, t) for t in tasks}
    if exclude_transfer:
        per_task = {
            t: {r: v for r, v in rt.items() if "(transfer)" not in r} for t, rt in per_task.items()
        }
    rows = sorted({r for rt in per_task.values() for r in rt}, key=row_rank)
    if not rows:
        return None
    metrics = METRICS + extra
    grouped = len(tasks) > 1
    columns = [Column("split", "split", kind=Kind.TEXT, better=Better.NONE)]
    columns.append(Column("n", "n", kind=Kind.COUNT, better=Better.NONE))
    for t in tasks:
        for key, label, kind in metrics:
            better = Better.NONE if key == "auc_classes_std" else Better.HIGH
            columns.append(Column(f"{t}_{key}", label, t if grouped else "", kind, better))
    values: dict = {}
    counts: dict[str, int] = {}
    records, sources = [], {}
    sig_frames = []
    for t in tasks:
        trials = per_task[t]
        base = baseline if baseline in trials else default_baseline(list(trials))
        if base is not None and len(trials) > 1:
            sig_frames.append(significance(results, t, trials, base))
        for row, rt in trials.items():
            sources.setdefault(row, [])
            sources[row] = sorted(set(sources[row]) | set(rt.frame["trial_id"]))
            counts[row] = max(counts.get(row, 0), len(rt.frame))
            values[(row, "split")] = rt.split_label
            record = {"model": row, "task": t, "split": rt.split_label, "n": len(rt.frame)}
            for key, _, _ in metrics:
                col = f"{t}_{key}"
                if key == "auc_classes_std":
                    col = f"{t}_auc_std"
                stat = Stat.of(rt.frame[col]) if col in rt.frame else None
                values[(row, f"{t}_{key}")] = stat
                record.update(tidy_stat(key, stat))
            records.append(record)
    for row in rows:
        values[(row, "n")] = float(counts.get(row, 0))
    cells = build_cells(rows, columns, values, counts)
    sig = pd.concat(sig_frames, ignore_index=True) if sig_frames else pd.DataFrame()
    data = pd.DataFrame(records)
    notes = [
        "mean ± std over seeds/folds (ddof 1), n trials per row; accuracy in %; "
        "best value per column in bold; — marks a missing cell.",
        "split: test = held-out test split; CV = cross-validation folds of the training split.",
    ]
    if not sig.empty:
        data = _attach_p(data, sig)
        _mark(cells, rows, columns, sig)
        bases = ", ".join(sorted(set(sig["baseline"])))
        notes.append(
            f"Significance against {bases} on the same cases (Holm-adjusted over rows, "
            f"p < {ALPHA}): † AUC (DeLong; paired bootstrap of the macro AUC for severity, "
            "seed-averaged probabilities), ‡ accuracy (McNemar exact), § AUC paired t-test "
            "over matched seeds."
        )
    ids = {i for v in sources.values() for i in v}
    table = Table(
        name=name,
        title=title,
        columns=columns,
        rows=rows,
        cells=cells,
        data=data,
        provenance=results.provenance(ids),
        notes=notes,
        sources=sources,
    )
    return table, sig


def _attach_p(data: pd.DataFrame, sig: pd.DataFrame) -> pd.DataFrame:
    wide = sig.pivot_table(
        index=["model", "task"], columns="kind", values="p_holm", aggfunc="first"
    )
    wide = wide.rename(
        columns={"auc": "p_auc_holm", "accuracy": "p_accuracy_holm", "seeds": "p_seeds_holm"}
    ).reset_index()
    wide.columns.name = None
    return data.merge(wide, on=["model", "task"], how="left")


def _mark(cells, rows, columns, sig: pd.DataFrame) -> None:
    keys = [c.key for c in columns]
    for rec in sig.itertuples():
        if not (np.isfinite(rec.p_holm) and rec.p_holm < ALPHA):
            continue
        metric = "accuracy" if rec.kind == "accuracy" else "auc"
        key = f"{rec.task}_{metric}"
        if rec.model in rows and key in keys:
            cells[rows.index(rec.model)][keys.index(key)].marks += MARKS[rec.kind]


def diagnosis(results: Results, baseline: str | None = None) -> tuple[Table, pd.DataFrame] | None:
    """Diagnosis comparison: ct and nat tasks x precision, recall, F1, accuracy, AUC."""
    return _comparison(
        results,
        "diagnosis",
        "Diagnosis: COVID-19 against radiology (ct) and nucleic acid test (nat)",
        ("ct", "nat"),
        (),
        baseline,
        exclude_transfer=True,
    )


def severity(results: Results, baseline: str | None = None) -> tuple[Table, pd.DataFrame] | None:
    """Severity comparison incl. transfer: metrics, per-class AUC, AUC std over classes."""
    per_class = [
        (f"auc_{k}", f"AUC {name}", Kind.SCORE) for k, name in enumerate(CLASS_NAMES["severity"])
    ]
    extra = (*per_class, ("auc_classes_std", "AUC std (classes)", Kind.SCORE))
    return _comparison(
        results,
        "severity",
        "Severity assessment (control/suspected, mild/regular, severe/critical)",
        ("severity",),
        extra,
        baseline,
        exclude_transfer=False,
    )


__all__ = ["ROW_ORDER", "diagnosis", "severity", "significance"]
