"""`mtl-study report` through the CLI root: default command, subcommands, --list, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mtl_study.cli.main import app

runner = CliRunner()


def _segmented_cohort(root: Path) -> Path:
    """Three synthetic phantoms segmented by both registered segmenters (real metrics)."""
    from mtl_study.data.cohort import load_cohort
    from mtl_study.data.synth import generate_cohort
    from mtl_study.io import read_scan
    from mtl_study.preprocess import segmenters
    from mtl_study.preprocess.metrics import segmentation_metrics

    generate_cohort(root, n_cases=16, seed=0, shape=(24, 40, 40))
    cohort = load_cohort(root)
    rows = []
    for case in cohort.manifest["case_id"][:3]:
        volume = read_scan(cohort.image_path(case)).array
        reference = read_scan(cohort.mask_path(case)).array > 0
        for method in ("classical", "refined"):
            mask = segmenters.build(method).segment(volume)
            rows.append({"case_id": case, "method": method} | segmentation_metrics(mask, reference))
    (root / "preprocessed").mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(root / "preprocessed" / "segmentation.csv", index=False)
    return root


def test_segmentation_subcommand(tmp_path: Path) -> None:
    cohort = _segmented_cohort(tmp_path / "seg")
    result = runner.invoke(app, ["report", "segmentation", str(cohort)])
    assert result.exit_code == 0, result.output
    assert "Lung segmentation" in result.output
    table = pd.read_csv(cohort / "report" / "segmentation.csv", comment="#")
    assert table["method"].tolist() == ["classical", "refined"]
    csv = pd.read_csv(cohort / "preprocessed" / "segmentation.csv")
    expected = csv[csv["method"] == "refined"]["dice"]
    refined = table.set_index("method").loc["refined"]
    assert refined["dice"] == pytest.approx(expected.mean())
    assert refined["dice_std"] == pytest.approx(expected.std(ddof=1))
    assert r"\toprule" in (cohort / "report" / "segmentation.tex").read_text(encoding="utf-8")


def test_segmentation_without_csv_fails_clearly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "segmentation", str(tmp_path)])
    assert result.exit_code == 1
    assert "segmentation.csv" in result.output


def test_features_subcommand_named_and_unknown(feature_cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "feat"
    args = ["report", "features", str(feature_cohort), "--out", str(out)]
    result = runner.invoke(app, [*args, "--features", "signal_ct,noise_1", "-f", "signal_nat"])
    assert result.exit_code == 0, result.output
    welch = pd.read_csv(out / "welch.csv", comment="#")
    assert welch["feature"].unique().tolist() == ["signal_ct", "noise_1", "signal_nat"]
    bad = runner.invoke(app, [*args, "--features", "signal_nt"])
    assert bad.exit_code == 1 and "signal_nat" in bad.output
    both = runner.invoke(app, [*args, "--features", "signal_ct", "--all"])
    assert both.exit_code == 1 and "exclude" in both.output


@pytest.mark.ray
def test_default_command_writes_report_and_lists_sources(
    results_copy: Callable[[], Path], tmp_path: Path
) -> None:
    root = results_copy()
    listed = runner.invoke(app, ["report", "--list", str(root)])
    assert listed.exit_code == 0, listed.output
    assert "main-random_forest" in listed.output and "diagnosis" in listed.output
    assert not (root / "report").exists()  # --list writes nothing
    out = tmp_path / "rep"
    result = runner.invoke(app, ["report", str(root), "--out", str(out), "--baseline", "RF"])
    assert result.exit_code == 0, result.output
    assert "Diagnosis" in result.output
    sig = pd.read_csv(out / "significance.csv", comment="#")
    assert set(sig[sig["task"] == "ct"]["baseline"]) == {"RF"}
    assert (out / "report.html").exists()
    bad = runner.invoke(app, ["report", str(root), "--baseline", "RFF"])
    assert bad.exit_code == 1 and "nearest: 'RF'" in bad.output.replace("\n", "")


def test_missing_results_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_help_lists_subcommands() -> None:
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    assert "features" in result.output and "segmentation" in result.output
