"""`mtl-study models list` prints every registered model and loss with its options."""

from __future__ import annotations

from typer.testing import CliRunner

from mtl_study import losses, models
from mtl_study.cli.main import app


def test_models_list_shows_all_names_and_options():
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0, result.output
    for name in models.available() + losses.available():
        assert name in result.output
    assert "max_shift" in result.output and "0.2" in result.output
    assert "shift_chance" in result.output and "two_task" in result.output


def test_models_list_filters_by_family():
    result = CliRunner().invoke(app, ["models", "list", "--family", "losses"])
    assert result.exit_code == 0, result.output
    assert "random_weighted" in result.output and "resnet3d34" not in result.output
