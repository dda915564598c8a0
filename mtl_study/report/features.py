"""Feature analysis of a cohort: top LightGBM features per task and their Welch's ANOVA.

SPEC 6: the 10 most important LightGBM features for each task (trained on the training split
only, so the test split stays untouched), their union, and Welch's ANOVA (unequal variances)
of each selected feature across the classes of each task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mtl_study.data.schema import TASKS
from mtl_study.report import stats
from mtl_study.report.load import Provenance, ReportError
from mtl_study.report.table import Better, Column, Kind, Table, build_cells

TOP_K = 10


@dataclass
class CohortFeatures:
    """Labels and features of a cohort, one row per case (joined on case_id)."""

    root: Path
    frame: pd.DataFrame
    feature_names: list[str]
    content_hash: str


@dataclass
class FeatureAnalysis:
    """What `mtl-study report features` computes before rendering."""

    cohort: CohortFeatures
    selected: list[str]
    importance: pd.DataFrame  # task, feature, importance, rank (empty when not ranked)
    welch: Table


def load_cohort_features(root: str | Path) -> CohortFeatures:
    """Read manifest.parquet and features.parquet of a cohort directory.

    Raises:
        ReportError: A file is missing or the two do not share any case.
    """
    root = Path(root).resolve()
    manifest_path, features_path = root / "manifest.parquet", root / "features.parquet"
    for path in (manifest_path, features_path):
        if not path.exists():
            raise ReportError(f"{path}: not found (feature analysis needs a cohort with features)")
    manifest = pd.read_parquet(manifest_path)
    features = pd.read_parquet(features_path)
    if "case_id" not in features.columns:
        raise ReportError(f"{features_path}: no case_id column")
    names = [c for c in features.columns if c != "case_id"]
    manifest = manifest.assign(case_id=manifest["case_id"].astype(str))
    features = features.assign(case_id=features["case_id"].astype(str))
    frame = manifest.merge(features, on="case_id", how="inner")
    if frame.empty:
        raise ReportError(f"{root}: manifest and features share no case_id")
    content_hash = "unknown"
    meta = root / "cohort.yaml"
    if meta.exists():
        import yaml

        content_hash = str(
            (yaml.safe_load(meta.read_text(encoding="utf-8")) or {}).get("content_hash", "unknown")
        )
    return CohortFeatures(root, frame, names, content_hash)


def top_features(
    cohort: CohortFeatures,
    k: int = TOP_K,
    n_estimators: int = 1000,
    learning_rate: float = 0.01,
    seed: int = 0,
) -> pd.DataFrame:
    """Rank features per task by LightGBM split importance on the training split.

    Returns:
        Tidy frame: task, feature, importance, rank (1 = most important), k rows per task.
    """
    from lightgbm import LGBMClassifier

    frame = cohort.frame
    train = frame[frame["split"] == "train"] if "split" in frame.columns else frame
    if train.empty:
        train = frame
    x = train[cohort.feature_names].to_numpy(np.float64)
    records = []
    for task in TASKS:
        if task not in train.columns:
            continue
        y = train[task].to_numpy()
        ok = pd.notna(y)
        if len(np.unique(y[ok])) < 2:
            continue
        model = LGBMClassifier(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            random_state=seed,
            n_jobs=1,
            verbose=-1,
        )
        model.fit(x[ok], y[ok].astype(int))
        imp = pd.Series(model.feature_importances_, index=cohort.feature_names)
        top = imp.sort_values(ascending=False, kind="stable").head(k)
        for rank, (name, value) in enumerate(top.items(), start=1):
            records.append(
                {"task": task, "feature": name, "importance": float(value), "rank": rank}
            )
    return pd.DataFrame(records, columns=["task", "feature", "importance", "rank"])


def _cache_key(content_hash: str, n_estimators: int) -> str:
    return f"# cohort hash: {content_hash}; lightgbm estimators: {n_estimators}\n"


def write_importance(importance: pd.DataFrame, path: Path, content_hash: str, n: int) -> Path:
    """top_features.csv with the cohort hash and estimator count as its first (comment) line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_cache_key(content_hash, n) + importance.to_csv(index=False), encoding="utf-8")
    return path


def read_cached(path: Path | None, content_hash: str, n: int) -> pd.DataFrame | None:
    """The ranking in `path` if it was computed on this cohort content; else None."""
    if path is None or not path.exists() or content_hash == "unknown":
        return None
    with path.open(encoding="utf-8") as handle:
        if handle.readline() != _cache_key(content_hash, n):
            return None
    return pd.read_csv(path, comment="#")


def union(importance: pd.DataFrame) -> list[str]:
    """Union of the per-task top lists, in order of first appearance (task order, rank)."""
    return list(dict.fromkeys(importance.sort_values(["rank"], kind="stable")["feature"]))


def welch_table(
    cohort: CohortFeatures,
    features: Sequence[str],
    results_dir: str | None = None,
    study_hash: str = "n/a",
) -> Table:
    """Welch's ANOVA of each feature across the classes of each task.

    CSV: feature, task, statistic, df1, df2, p. Display: feature x task (statistic, df2, p).
    """
    tasks = [t for t in TASKS if t in cohort.frame.columns]
    columns = []
    for t in tasks:
        columns += [
            Column(f"{t}_statistic", "statistic", t, Kind.SCORE, Better.NONE),
            Column(f"{t}_df2", "df2", t, Kind.SCORE, Better.NONE),
            Column(f"{t}_p", "p", t, Kind.PVALUE, Better.NONE),
        ]
    values: dict = {}
    records = []
    for name in features:
        col = cohort.frame[name].to_numpy(np.float64)
        for t in tasks:
            try:
                res = stats.welch_anova(col, cohort.frame[t].to_numpy())
            except ValueError:
                continue
            records.append(
                {"feature": name, "task": t, "statistic": res.statistic, "df1": res.df1}
                | {"df2": res.df2, "p": res.p}
            )
            values[(name, f"{t}_statistic")] = res.statistic
            values[(name, f"{t}_df2")] = res.df2
            values[(name, f"{t}_p")] = res.p
    data = pd.DataFrame(records, columns=["feature", "task", "statistic", "df1", "df2", "p"])
    rows = list(features)
    cells = build_cells(rows, columns, values)
    for i, name in enumerate(rows):
        for j, c in enumerate(columns):
            v = values.get((name, c.key))
            if c.kind is Kind.PVALUE and v is not None and v < 0.05:
                cells[i][j].marks = "*"
    return Table(
        name="welch",
        title="Welch's ANOVA of the top features across the classes of each task",
        columns=columns,
        rows=rows,
        cells=cells,
        data=data,
        provenance=Provenance(results_dir or str(cohort.root), study_hash, cohort.content_hash, 0),
        notes=[
            "Welch's one-way ANOVA with unequal variances (statsmodels anova_oneway, "
            "use_var='unequal'); df1 = classes - 1; * p < 0.05 (not adjusted). "
            f"Cases: {len(cohort.frame)}."
        ],
        sources={r: [] for r in rows},
        row_header="feature",
    )


def analyse(
    root: str | Path,
    features: Sequence[str] | None = None,
    all_features: bool = False,
    n_estimators: int = 1000,
    results_dir: str | None = None,
    study_hash: str = "n/a",
    cache: Path | None = None,
) -> FeatureAnalysis:
    """Select features (named, all, or the LightGBM top-10 union) and compute the Welch table.

    `cache` (a top_features.csv written before) is reused when it was computed on the same
    cohort content with the same number of estimators: LightGBM on 1,329 x 375 features takes
    minutes, and `mtl-study run` regenerates the report at every end.

    Raises:
        ReportError: Unknown feature names (the message lists the nearest valid ones).
    """
    cohort = load_cohort_features(root)
    importance = pd.DataFrame(columns=["task", "feature", "importance", "rank"])
    if features:
        unknown = [f for f in features if f not in cohort.feature_names]
        if unknown:
            import difflib

            hints = {f: difflib.get_close_matches(f, cohort.feature_names, n=3) for f in unknown}
            raise ReportError(f"{cohort.root}: unknown features {hints} (name: nearest matches)")
        selected = list(features)
    elif all_features:
        selected = list(cohort.feature_names)
    else:
        importance = read_cached(cache, cohort.content_hash, n_estimators)
        if importance is None:
            importance = top_features(cohort, n_estimators=n_estimators)
            if cache is not None:
                write_importance(importance, cache, cohort.content_hash, n_estimators)
        selected = union(importance)
    return FeatureAnalysis(
        cohort=cohort,
        selected=selected,
        importance=importance,
        welch=welch_table(cohort, selected, results_dir, study_hash),
    )
