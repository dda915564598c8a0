"""The `mtl-study` command: joins the per-noun Typer apps."""

from __future__ import annotations

from typing import Annotated

import typer

from mtl_study import __version__
from mtl_study.cli import data, models, preprocess, report, run, search, segment

app = typer.Typer(
    name="mtl-study",
    help="Ablation and hyperparameter studies for multitask 3D-CT COVID-19 models (COVID-MTL).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(data.app, name="data", help="Create, import, split and inspect cohorts.")
app.command("preprocess", help="Segment, crop and extract radiomics features of a cohort (Dask).")(
    preprocess.preprocess
)
app.command("segment", help="Segment the lungs of one scan and write mask + overlay.")(
    segment.segment
)
app.add_typer(models.app, name="models", help="List registered models and losses.")
app.command("run", help="Run a study: every variant x seed as Ray Tune trials.")(run.run)
app.command("search", help="Optuna search over a study's parameters (Ray Tune).")(search.search)
app.add_typer(report.app, name="report", help="Tables and figures from stored trials.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mtl-study {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Ablation and hyperparameter studies for multitask 3D-CT COVID-19 models."""
