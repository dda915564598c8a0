"""`mtl-study report`: tables and figures from stored trials, feature analysis, segmentation.

`mtl-study report RESULTS_DIR` is the default command; `features` and `segmentation` are
subcommands. A group that inserts the default command name lets both forms share one Typer
app (Click has no default subcommand of its own).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable
from typer.core import TyperGroup

from mtl_study.report import ReportError, compute, features_report, generate, load_results
from mtl_study.report import segmentation_report as write_segmentation

DEFAULT_COMMAND = "results"


class DefaultCommandGroup(TyperGroup):
    """Runs `results` when the first argument is not a subcommand name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=DefaultCommandGroup,
    no_args_is_help=True,
    help="Tables and figures from stored trials: `mtl-study report RESULTS_DIR`, or a "
    "subcommand (features, segmentation) on a cohort.",
)


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _print_sources(results_dir: Path, baseline: str | None, console: Console) -> None:
    report = compute(load_results(results_dir), baseline, feature_estimators=1)
    grid = RichTable(title=f"Trials feeding each cell of {results_dir}", title_justify="left")
    for name in ("table", "row", "n", "trial ids"):
        grid.add_column(name, overflow="fold")
    for table in report.tables:
        for row in table.rows:
            ids = table.sources.get(row, [])
            if ids:
                grid.add_row(table.name, escape(row), str(len(ids)), ", ".join(ids))
    console.print(grid)


@app.command(DEFAULT_COMMAND)
def results(
    results_dir: Annotated[
        Path, typer.Argument(help="Results directory written by `mtl-study run`/`search`.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Target folder (default RESULTS_DIR/report).")
    ] = None,
    list_sources: Annotated[
        bool, typer.Option("--list", help="Show which trial ids feed which rows; write nothing.")
    ] = False,
    baseline: Annotated[
        str | None,
        typer.Option(help="Row the significance tests compare against (default: COVID-MTL)."),
    ] = None,
) -> None:
    """Write CSV, Markdown, LaTeX, PNG and report.html for a results directory."""
    console = Console()
    try:
        if list_sources:
            _print_sources(results_dir, baseline, console)
        else:
            generate(results_dir, out, console=console, baseline=baseline)
    except ReportError as exc:
        _fail(exc)


@app.command("features")
def features(
    cohort_dir: Annotated[Path, typer.Argument(help="Cohort directory with features.parquet.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Target folder (default COHORT_DIR/report).")
    ] = None,
    names: Annotated[
        list[str] | None,
        typer.Option(
            "--features",
            "-f",
            help="Analyse these features (repeat, or comma-separated) instead of the top 10 "
            "LightGBM features per task.",
        ),
    ] = None,
    all_features: Annotated[bool, typer.Option("--all", help="Analyse every feature.")] = False,
) -> None:
    """Top LightGBM features per task, Welch's ANOVA table, box plots and heatmap."""
    selected = [n.strip() for item in names or [] for n in item.split(",") if n.strip()]
    if selected and all_features:
        _fail(ValueError("--features and --all exclude each other"))
    try:
        features_report(cohort_dir, out, selected or None, all_features, console=Console())
    except ReportError as exc:
        _fail(exc)


@app.command("segmentation")
def segmentation(
    cohort_dir: Annotated[Path, typer.Argument(help="Preprocessed cohort directory.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Target folder (default COHORT_DIR/report).")
    ] = None,
) -> None:
    """Segmentation comparison: method x Dice, Jaccard, MCC, precision (mean ± std)."""
    try:
        write_segmentation(cohort_dir, out, console=Console())
    except ReportError as exc:
        _fail(exc)
