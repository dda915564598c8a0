"""Loss ablation (loss x Shift3D) and transfer ablation (Shift3D kept vs removed) tables.

Convergence is summarised by "epochs to level": the first epoch whose training loss has made
90 % of its total drop, i.e. `train_loss[e] <= min + 0.1 * (train_loss[first] - min)`. It is
scale-free, so losses of different magnitude (or sign: the uncertainty loss can go negative)
compare fairly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mtl_study.data.schema import CLASS_NAMES, TASKS
from mtl_study.report.load import Results
from mtl_study.report.rows import as_text, describe, distinct, qualifier
from mtl_study.report.table import Better, Column, Kind, Stat, Table, build_cells, tidy_stat

#: Fraction of the total training-loss drop still allowed at the "level" (see module doc).
LEVEL_FRACTION = 0.1
LOSS_ORDER = ("uncertainty", "random_weighted", "mean")
ABLATION_STAGES = ("main", "final")


def epochs_to_level(train_loss: np.ndarray, fraction: float = LEVEL_FRACTION) -> float:
    """First (1-based) epoch within `fraction` of the total drop above the minimum; NaN if empty."""
    loss = np.asarray(train_loss, float)
    loss = loss[np.isfinite(loss)]
    if loss.size == 0:
        return float("nan")
    low = loss.min()
    level = low + fraction * (loss[0] - low)
    return float(np.flatnonzero(loss <= level + 1e-12)[0] + 1)


def _is_mtl(row: str) -> bool:
    return row.startswith("COVID-MTL") and "(transfer)" not in row


def _ablation_label(rec: pd.Series, extra: list[str]) -> str:
    if rec["row"].startswith("COVID-MTL (features)"):
        shift = "features only"  # Shift3D acts on volumes; the flag means nothing here
    else:
        shift = "w/ Shift3D" if str(rec["shift3d"]).lower() in ("true", "1") else "w/o Shift3D"
    rest = describe(rec, extra)
    return f"{as_text(rec['loss'])}, {shift}" + (f", {rest}" if rest else "")


def _rank(label: str) -> tuple[int, int, str]:
    loss = label.split(",")[0]
    li = LOSS_ORDER.index(loss) if loss in LOSS_ORDER else len(LOSS_ORDER)
    return (li, 0 if "w/ Shift3D" in label else 1, label)


def loss_ablation(results: Results) -> Table | None:
    """{uncertainty, random_weighted, mean} x {with, without Shift3D}: per task accuracy, AUC,
    final training loss and epochs to level; test split preferred over cross-validation."""
    final = results.final
    if final.empty or "loss" not in final.columns:
        return None
    sel = final[final["stage"].isin(ABLATION_STAGES) & final["row"].map(_is_mtl)]
    if sel.empty:
        return None
    if (sel["split"] == "test").any():
        sel = sel[sel["split"] == "test"]
    split = "test" if (sel["split"] == "test").all() else "cross-validation"
    sel = sel.copy()
    has_features = sel["row"].str.contains("volume+features", regex=False)
    sel["features"] = np.where(has_features, "volume+features", "volume")
    extra = [c for c in ("features", "dirichlet_n", "max_shift") if distinct(sel[c]) > 1]
    sel["label"] = sel.apply(lambda r: _ablation_label(r, extra), axis=1)
    tasks = [t for t in TASKS if sel["tasks"].map(lambda s, t=t: t in str(s).split(",")).any()]
    columns = [Column("n", "n", kind=Kind.COUNT, better=Better.NONE)]
    for t in tasks:
        columns.append(Column(f"{t}_accuracy", "accuracy (%)", t, Kind.PERCENT))
        columns.append(Column(f"{t}_auc", "AUC", t, Kind.SCORE))
    columns.append(Column("train_loss", "final train loss", "", Kind.SCORE, Better.NONE))
    columns.append(Column("epochs_to_level", "epochs to level", "", Kind.COUNT, Better.LOW))
    history = results.trials.sort_values("epoch")
    rows = sorted(sel["label"].unique(), key=_rank)
    values: dict = {}
    counts: dict[str, int] = {}
    records, sources = [], {}
    for label, frame in sel.groupby("label"):
        ids = sorted(frame["trial_id"])
        sources[label] = ids
        counts[label] = len(frame)
        values[(label, "n")] = float(len(frame))
        levels = [
            epochs_to_level(history.loc[history["trial_id"] == i, "train_loss"].to_numpy())
            for i in ids
        ]
        rec = {"variant": label, "loss": frame["loss"].iloc[0], "split": split, "n": len(frame)}
        rec["shift3d"] = "w/ Shift3D" in label
        stat_cols = {f"{t}_{m}": frame.get(f"{t}_{m}") for t in tasks for m in ("accuracy", "auc")}
        stat_cols["train_loss"] = frame["train_loss"]
        stat_cols["epochs_to_level"] = pd.Series(levels)
        for key, series in stat_cols.items():
            stat = Stat.of(series) if series is not None else None
            values[(label, key)] = stat
            rec.update(tidy_stat(key, stat))
        records.append(rec)
    ids_all = {i for v in sources.values() for i in v}
    return Table(
        name="ablation",
        title=f"Loss ablation: multitask loss x Shift3D ({split})",
        columns=columns,
        rows=rows,
        cells=build_cells(rows, columns, values, counts),
        data=pd.DataFrame(records),
        provenance=results.provenance(ids_all),
        notes=[
            "mean ± std over seeds/folds; accuracy in %; best per column in bold.",
            "epochs to level: first epoch whose training loss has made 90% of its total drop "
            "(train_loss <= min + 0.1 x (first - min)); lower converges faster.",
        ],
        sources=sources,
        row_header="loss, Shift3D",
    )


def transfer_ablation(results: Results) -> Table | None:
    """Transfer to severity with Shift3D kept vs removed: severity metrics and per-class AUC."""
    final = results.final
    if final.empty or "transfer" not in final.columns:
        return None
    sel = final[final["transfer"].map(as_text) != ""]
    if sel.empty:
        return None
    if (sel["split"] == "test").any():
        sel = sel[sel["split"] == "test"]
    split = "test" if (sel["split"] == "test").all() else "cross-validation"
    metrics = [
        ("severity_precision", "precision", Kind.SCORE),
        ("severity_recall", "recall", Kind.SCORE),
        ("severity_f1", "F1", Kind.SCORE),
        ("severity_accuracy", "accuracy (%)", Kind.PERCENT),
        ("severity_auc", "AUC", Kind.SCORE),
    ] + [
        (f"severity_auc_{k}", f"AUC {name}", Kind.SCORE)
        for k, name in enumerate(CLASS_NAMES["severity"])
    ]
    columns = [Column("n", "n", kind=Kind.COUNT, better=Better.NONE)]
    columns += [Column(k, label, kind=kind) for k, label, kind in metrics]
    values: dict = {}
    counts: dict[str, int] = {}
    records, sources = [], {}
    labels = sel["transfer"].map(lambda v: qualifier("transfer", v))
    for label, frame in sel.groupby(labels):
        sources[label] = sorted(frame["trial_id"])
        counts[label] = len(frame)
        values[(label, "n")] = float(len(frame))
        rec = {"transfer": frame["transfer"].iloc[0], "split": split, "n": len(frame)}
        for key, _, _ in metrics:
            stat = Stat.of(frame[key]) if key in frame else None
            values[(label, key)] = stat
            short = key.removeprefix("severity_")
            rec.update(tidy_stat(short, stat))
        records.append(rec)
    rows = sorted(sources, key=lambda r: (0 if "kept" in r else 1, r))
    return Table(
        name="transfer",
        title=f"Transfer to severity: Shift3D kept vs removed ({split})",
        columns=columns,
        rows=rows,
        cells=build_cells(rows, columns, values, counts),
        data=pd.DataFrame(records),
        provenance=results.provenance({i for v in sources.values() for i in v}),
        notes=["mean ± std over seeds; accuracy in %; best per column in bold."],
        sources=sources,
        row_header="Shift3D during transfer",
    )
