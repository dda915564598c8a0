"""The volume study (minutes): Shift3D ablation, transfer ablation, loss curves, segmentation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mtl_study.report import compute, generate, load_results

pytestmark = [pytest.mark.long, pytest.mark.ray]


def test_volume_study_tables_and_figures(
    volume_results: Path, volume_cohort: Path, tmp_path: Path
) -> None:
    report = compute(load_results(volume_results), feature_estimators=20)
    ablation = report.table("ablation")
    assert ablation.rows == [
        "random_weighted, w/ Shift3D",
        "random_weighted, w/o Shift3D",
        "mean, w/ Shift3D",
        "mean, w/o Shift3D",
    ]
    transfer = report.table("transfer")
    assert transfer.rows == ["Shift3D kept", "Shift3D removed"]
    assert set(transfer.data["n"]) == {2}
    severity = report.table("severity")
    assert {"COVID-MTL (transfer) [Shift3D kept]", "RF", "LGBM"} <= set(severity.rows)
    diagnosis = report.table("diagnosis")
    assert "COVID-MTL w/ Shift3D (volume) [mean]" in diagnosis.rows
    csv = pd.read_csv(volume_cohort / "preprocessed" / "segmentation.csv")
    segmentation = report.table("segmentation")
    assert segmentation.rows == sorted(csv["method"].unique())
    classical = csv[csv["method"] == "classical"]["dice"]
    row = segmentation.data.set_index("method").loc["classical"]
    assert row["dice"] == pytest.approx(classical.mean())
    assert row["dice_std"] == pytest.approx(classical.std(ddof=1))
    out = generate(volume_results, tmp_path / "report")
    assert (out / "loss_curves.png").exists()
    assert (out / "roc_severity.png").exists()
