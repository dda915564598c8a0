"""`mtl-study data ...` end to end through the CLI root."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mtl_study.cli.main import app
from mtl_study.data.cohort import load_cohort

runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["data", "--help"])
    assert result.exit_code == 0
    for command in ("synth", "info", "split", "import-covid-mtl", "import-scans"):
        assert command in result.output


def test_synth_info_split(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    result = runner.invoke(
        app,
        ["data", "synth", "--cases", "20", "--seed", "3", "--shape", "16", "32", "32",
         "--spacing", "3", "2", "2", "--folds", "2", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote 20 synthetic cases" in result.output
    cohort = load_cohort(out)
    assert len(cohort.manifest) == 20 and cohort.meta["generator"]["seed"] == 3

    info = runner.invoke(app, ["data", "info", str(out)])
    assert info.exit_code == 0, info.output
    assert "classes per task and split" in info.output
    assert "control/suspected" in info.output and "synthetic" in info.output

    before = cohort.manifest.set_index("case_id")["split"]
    split = runner.invoke(
        app, ["data", "split", str(out), "--test-size", "0.5", "--folds", "3", "--seed", "9"]
    )
    assert split.exit_code == 0, split.output
    after = load_cohort(out)
    assert (after.manifest["split"] == "test").sum() == 10
    assert sorted(after.manifest.loc[after.manifest["split"] == "train", "fold"].unique()) == [
        0,
        1,
        2,
    ]
    assert not after.manifest.set_index("case_id")["split"].equals(before)
    assert after.meta["split"]["seed"] == 9 and after.meta["source"] == "synthetic"


def test_import_covid_mtl_real(covid_mtl_data: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["data", "import-covid-mtl", "--features", str(covid_mtl_data / "features.csv.gz"),
         "--labels", str(covid_mtl_data / "labels.csv"), "--out", str(tmp_path / "real")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1329" in result.output
    for count in ("998", "331", "761", "568", "562", "199", "375"):
        assert count in result.output


def test_errors_exit_nonzero_with_the_reason(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "info", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "does not exist" in result.output

    labels = tmp_path / "labels.csv"
    pd.DataFrame(
        {"case_id": ["a", "b"], "image": ["a.nii.gz", "b.nii.gz"], "ct": [0, 1], "nat": [0, 1],
         "severity": [0, 1]}
    ).to_csv(labels, index=False)  # fmt: skip
    result = runner.invoke(
        app,
        ["data", "import-scans", "--labels", str(labels), "--images-dir", str(tmp_path),
         "--out", str(tmp_path / "cohort")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "case 'a'" in result.output and "case 'b'" in result.output


@pytest.mark.parametrize("command", ["synth", "import-covid-mtl", "import-scans", "split"])
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, ["data", command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
