"""`mtl-study run` / `mtl-study search`: invalid studies and spaces fail before any work."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mtl_study.cli.main import app

runner = CliRunner()


def test_run_unknown_study_exits_with_nearest_name(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "quik", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "did you mean 'quick'" in result.output
    assert not (tmp_path / "out").exists()


def test_run_bad_override_and_search_bad_space_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "quick", "-o", "train.epochz=2", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "did you mean 'epochs'" in result.output
    result = runner.invoke(app, ["search", "quick", "--space", "dirichlet", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "did you mean 'dirichlet_n'" in result.output
    result = runner.invoke(
        app,
        ["search", "quick", "--space", "max_shift", "--sampler", "tpee", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2 and "did you mean 'tpe'" in result.output
