"""Report figures as PNG (matplotlib's object API with the Agg canvas; no display needed).

ROC curves per task with every model, train/test total-loss curves of the loss ablation,
metric vs searched parameter, box plots and a clustered heatmap of the top features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve

from mtl_study.data.schema import CLASS_NAMES, TASKS
from mtl_study.report.comparison import COMPARED_STAGES, row_trials
from mtl_study.report.load import Results
from mtl_study.report.search import COMPLETE, param_columns

DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def roc_curves(results: Results, out: Path) -> list[Path]:
    """roc_<task>.png: one curve per model (seed-averaged probabilities on the same cases).

    Severity gets one panel per class (one-vs-rest).
    """
    pred = results.predictions
    if pred is None or pred.empty:
        return []
    paths = []
    for task, n_classes in TASKS.items():
        trials = row_trials(results, task, COMPARED_STAGES)
        curves = []
        for row, rt in trials.items():
            sel = pred[
                pred["trial_id"].isin(rt.frame["trial_id"])
                & (pred["task"] == task)
                & (pred["split"] == rt.split)
            ]
            if sel.empty:
                continue
            cols = [f"prob_{k}" for k in range(n_classes)]
            agg = sel.groupby("case_id")[[*cols, "label"]].mean()
            curves.append((row, agg["label"].round().astype(int).to_numpy(), agg[cols].to_numpy()))
        if not curves:
            continue
        classes = [1] if n_classes == 2 else list(range(n_classes))
        fig = Figure(figsize=(5 * len(classes), 4.5))
        for i, k in enumerate(classes):
            ax = fig.add_subplot(1, len(classes), i + 1)
            for row, y, probs in curves:
                yk = (y == k).astype(int)
                if 0 < yk.sum() < len(yk):
                    fpr, tpr, _ = roc_curve(yk, probs[:, k])
                    ax.plot(fpr, tpr, label=f"{row} ({roc_auc_score(yk, probs[:, k]):.3f})")
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
            name = task if n_classes == 2 else f"{task}: {CLASS_NAMES[task][k]} vs rest"
            ax.set(title=f"ROC {name}", xlabel="false positive rate", ylabel="true positive rate")
            ax.legend(fontsize=7, loc="lower right")
        paths.append(_save(fig, out / f"roc_{task}.png"))
    return paths


def loss_curves(results: Results, out: Path) -> list[Path]:
    """loss_curves.png: mean total loss per epoch for each multitask loss; columns with and
    without Shift3D, rows training and test loss (their scales differ, so separate axes)."""
    trials = results.trials
    if trials.empty or "loss" not in trials.columns or "train_loss" not in trials.columns:
        return []
    finished = set(results.final["trial_id"])
    sel = trials[
        trials["trial_id"].isin(finished)
        & trials["stage"].isin(("main", "final"))
        & trials["row"].str.startswith("COVID-MTL")
        & ~trials["row"].str.contains("(transfer)", regex=False)
    ]
    if sel.empty or sel["epoch"].nunique() < 2:
        return []
    shifted = sel["shift3d"].astype(str).str.lower().isin(("true", "1"))
    panels = [
        (name, sel[mask]) for name, mask in (("w/ Shift3D", shifted), ("w/o Shift3D", ~shifted))
    ]
    panels = [(name, frame) for name, frame in panels if not frame.empty]
    kinds = [("train_loss", "training")]
    if "eval_loss" in sel.columns and sel["eval_loss"].notna().any():
        kinds.append(("eval_loss", "test"))
    fig = Figure(figsize=(5.5 * len(panels), 3.6 * len(kinds)))
    for i, (column, kind) in enumerate(kinds):
        for j, (name, frame) in enumerate(panels):
            ax = fig.add_subplot(len(kinds), len(panels), i * len(panels) + j + 1)
            for k, (loss, sub) in enumerate(frame.groupby("loss")):
                mean = sub.groupby("epoch")[column].mean()
                ax.plot(mean.index, mean.to_numpy(), color=f"C{k}", marker="o", ms=3, label=loss)
            ax.set(title=f"{kind} loss, {name}", xlabel="epoch", ylabel="total loss")
            if (frame[column].dropna() > 0).all():
                ax.set_yscale("log")  # early epochs of a fresh BatchNorm net score far higher
            ax.legend(fontsize=7)
    return [_save(fig, out / "loss_curves.png")]


def search_plots(results: Results, out: Path) -> list[Path]:
    """search_<param>.png: each COMPLETE Optuna trial's value against the parameter."""
    frame = results.search
    if frame is None or frame.empty:
        return []
    done = frame[(frame["state"] == COMPLETE) & frame["value"].notna()]
    paths = []
    for param in param_columns(done):
        fig = Figure(figsize=(5, 4))
        ax = fig.add_subplot(1, 1, 1)
        for search, sub in done.groupby("search"):
            x = sub[param]
            if not pd.api.types.is_numeric_dtype(x):
                x = x.astype(str)
            ax.scatter(x, sub["value"], label=str(search), alpha=0.8)
        name = param.removeprefix("param_")
        ax.set(xlabel=name, ylabel=str(done["metric"].iloc[0]), title=f"metric vs {name}")
        ax.legend(fontsize=7)
        paths.append(_save(fig, out / f"search_{name}.png"))
    return paths


def _zscore(frame: pd.DataFrame) -> pd.DataFrame:
    std = frame.std(ddof=0).replace(0, 1.0)
    return (frame - frame.mean()) / std


def feature_boxplots(frame: pd.DataFrame, features: list[str], out: Path) -> list[Path]:
    """features_box_<task>.png: z-scored top features by class of the task."""
    paths = []
    z = _zscore(frame[features].astype(float))
    for task in TASKS:
        if task not in frame.columns:
            continue
        groups = sorted(frame[task].dropna().unique())
        cols = min(5, len(features))
        rows = int(np.ceil(len(features) / cols))
        fig = Figure(figsize=(2.6 * cols, 2.4 * rows))
        for i, name in enumerate(features):
            ax = fig.add_subplot(rows, cols, i + 1)
            data = [z.loc[frame[task] == g, name].dropna().to_numpy() for g in groups]
            ax.boxplot(data, showfliers=False)
            ax.set_xticks(range(1, len(groups) + 1), [str(int(g)) for g in groups])
            ax.set_title(name, fontsize=7)
            ax.tick_params(labelsize=6)
        fig.suptitle(f"Top features by {task} class (z-scored)", fontsize=9)
        paths.append(_save(fig, out / f"features_box_{task}.png"))
    return paths


def feature_heatmap(frame: pd.DataFrame, features: list[str], out: Path) -> list[Path]:
    """features_heatmap.png: z-scored features, cases and features hierarchically clustered
    (average linkage, distance 1 - Pearson r), with task labels, age and gender strips."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    z = _zscore(frame[features].astype(float)).fillna(0.0).clip(-3, 3)
    if len(features) < 2 or len(z) < 3:
        return []

    def order(matrix: np.ndarray) -> np.ndarray:
        corr = np.nan_to_num(np.corrcoef(matrix), nan=0.0)
        dist = np.clip(1.0 - corr, 0.0, 2.0)
        np.fill_diagonal(dist, 0.0)
        dist = (dist + dist.T) / 2
        return leaves_list(linkage(squareform(dist, checks=False), method="average"))

    values = z.to_numpy()
    feat_order = order(values.T)
    case_order = order(values)
    values = values[np.ix_(case_order, feat_order)]
    annotations = [c for c in (*TASKS, "age", "gender") if c in frame.columns]
    rows = max(8, len(features))  # heatmap height in annotation-strip units
    fig = Figure(figsize=(10, 1.5 + 0.22 * (rows + len(annotations))))
    heights = [1.0] * len(annotations) + [float(rows)]
    grid = fig.add_gridspec(len(heights), 2, height_ratios=heights, width_ratios=[40, 1])
    cases = frame.iloc[case_order]
    for i, name in enumerate(annotations):
        ax = fig.add_subplot(grid[i, 0])
        col = cases[name]
        strip = (col == "M").astype(float) if name == "gender" else col.astype(float)
        ax.imshow(strip.to_numpy()[None, :], aspect="auto", cmap="viridis", interpolation="nearest")
        ax.set_yticks([0], [name], fontsize=7)
        ax.set_xticks([])
    ax = fig.add_subplot(grid[-1, 0])
    image = ax.imshow(
        values.T, aspect="auto", cmap="RdBu_r", vmin=-3, vmax=3, interpolation="nearest"
    )
    ax.set_yticks(range(len(features)), [features[i] for i in feat_order], fontsize=6)
    ax.set_xlabel(f"cases (n={len(cases)}, clustered)")
    ax.set_xticks([])
    fig.colorbar(image, cax=fig.add_subplot(grid[-1, 1]), label="z-score")
    return [_save(fig, out / "features_heatmap.png")]


def cam_images(results: Results) -> list[Path]:
    """CAM overlays the study saved (cams/<trial_id>/*.png), for embedding in the report."""
    return sorted((results.root / "cams").glob("*/*.png"))
