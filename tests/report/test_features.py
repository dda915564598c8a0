"""Feature analysis: LightGBM top features, union, Welch table, figures; real cohort too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.oneway import anova_oneway

from mtl_study.report import ReportError, features_report
from mtl_study.report.features import analyse, load_cohort_features, top_features, union


def test_top_features_find_the_informative_ones(feature_cohort: Path) -> None:
    cohort = load_cohort_features(feature_cohort)
    ranked = top_features(cohort, k=3, n_estimators=60)
    assert set(ranked["task"]) == {"ct", "nat", "severity"}
    assert ranked.groupby("task").size().tolist() == [3, 3, 3]
    severity = ranked[ranked["task"] == "severity"].sort_values("rank")
    assert severity["feature"].iloc[0].startswith("signal_")
    selected = union(ranked)
    assert len(selected) == len(set(selected)) and set(selected) == set(ranked["feature"])


def test_named_features_and_unknown_names(feature_cohort: Path) -> None:
    analysis = analyse(feature_cohort, features=["signal_ct", "noise_0"])
    assert analysis.welch.rows == ["signal_ct", "noise_0"]
    assert analysis.importance.empty
    with pytest.raises(ReportError, match="signal_ct"):
        analyse(feature_cohort, features=["signal_cT"])


def test_features_report_writes_table_and_figures(feature_cohort: Path, tmp_path: Path) -> None:
    out = features_report(feature_cohort, tmp_path / "f", all_features=True, n_estimators=20)
    welch = pd.read_csv(out / "welch.csv", comment="#")
    assert len(welch) == 8 * 3
    frame = pd.read_parquet(feature_cohort / "manifest.parquet").merge(
        pd.read_parquet(feature_cohort / "features.parquet"), on="case_id"
    )
    row = welch[(welch["feature"] == "signal_nat") & (welch["task"] == "nat")].iloc[0]
    ref = anova_oneway(
        [frame.loc[frame["nat"] == g, "signal_nat"] for g in (0, 1)], use_var="unequal"
    )
    assert row["statistic"] == pytest.approx(ref.statistic) and row["p"] == pytest.approx(
        ref.pvalue
    )
    names = {p.name for p in out.glob("*.png")}
    assert names == {
        "features_box_ct.png",
        "features_box_nat.png",
        "features_box_severity.png",
        "features_heatmap.png",
    }
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 4 and 'id="welch"' in html


def test_top_feature_ranking_is_cached_per_cohort_content(
    feature_cohort: Path, tmp_path: Path
) -> None:
    out = features_report(feature_cohort, tmp_path / "c", n_estimators=30)
    cache = out / "top_features.csv"
    first = cache.read_text(encoding="utf-8")
    stamp = cache.stat().st_mtime_ns
    features_report(feature_cohort, out, n_estimators=30)
    assert cache.stat().st_mtime_ns == stamp  # reused, not recomputed
    features_report(feature_cohort, out, n_estimators=31)
    assert cache.read_text(encoding="utf-8") != first and "estimators: 31" in cache.read_text(
        encoding="utf-8"
    )
    ranked = pd.read_csv(cache, comment="#")
    assert set(ranked["task"]) == {"ct", "nat", "severity"}


@pytest.fixture(scope="module")
def real_cohort(covid_mtl_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mtl_study.data.importers import import_covid_mtl

    out = tmp_path_factory.mktemp("real") / "covid-mtl"
    import_covid_mtl(covid_mtl_data / "features.csv.gz", covid_mtl_data / "labels.csv", out)
    return out


def test_real_cohort_top_features_and_welch(real_cohort: Path) -> None:
    analysis = analyse(real_cohort, n_estimators=100)
    assert analysis.importance.groupby("task").size().tolist() == [10, 10, 10]
    assert 10 <= len(analysis.selected) <= 30
    frame = analysis.cohort.frame
    train = frame[frame["split"] == "train"]
    assert len(train) == 930  # LightGBM never saw the test split
    data = analysis.welch.data.set_index(["feature", "task"])
    name = analysis.selected[0]
    values = frame[name].to_numpy(float)
    ref = anova_oneway([values[frame["severity"] == g] for g in (0, 1, 2)], use_var="unequal")
    assert data.loc[(name, "severity"), "statistic"] == pytest.approx(ref.statistic)
    assert data.loc[(name, "severity"), "df2"] == pytest.approx(ref.df[1])
    assert np.isfinite(data["p"]).all()


@pytest.mark.long
def test_real_cohort_full_feature_report(real_cohort: Path, tmp_path: Path) -> None:
    out = features_report(real_cohort, tmp_path / "real")
    assert len(pd.read_csv(out / "top_features.csv", comment="#")) == 30
    assert (out / "features_heatmap.png").stat().st_size > 10_000
