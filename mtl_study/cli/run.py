"""`mtl-study run STUDY`: every variant x seed of a study as Ray Tune trials."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mtl_study.study.spec import StudyError


def run(
    study: Annotated[
        str, typer.Argument(help="Shipped study (ablation, comparison, features, quick) or YAML.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results directory; an interrupted run there is resumed."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Cohort directory replacing the study's.")
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="Apply a preset of the study (e.g. quick).")
    ] = None,
    override: Annotated[
        list[str] | None,
        typer.Option("-o", "--override", help="key.path=value, e.g. -o train.epochs=5."),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Ray cluster: auto, host:6379 or ray://host:10001."),
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard what --out holds and start over.")
    ] = False,
    dashboard: Annotated[
        bool, typer.Option("--dashboard", help="Start the Ray dashboard on 127.0.0.1.")
    ] = False,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="No live table (logs, CI).")
    ] = False,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Skip the report at the end.")
    ] = False,
) -> None:
    """Run a study: every variant x seed as Ray Tune trials, then the report's main tables."""
    from mtl_study.study.runner import run_study

    try:
        path = run_study(
            study,
            out=out,
            overrides=tuple(override or ()),
            data=data,
            address=address,
            restart=restart,
            progress=not no_progress,
            preset=preset,
            report=not no_report,
            dashboard=dashboard,
        )
    except StudyError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"results: {path}")
