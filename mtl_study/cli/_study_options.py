"""Options shared by `mtl-study run` and `mtl-study search`, and how both report a bad study."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from mtl_study.study.spec import StudyError

Data = Annotated[
    Path | None, typer.Option("--data", help="Cohort directory replacing the study's.")
]
Preset = Annotated[
    str | None, typer.Option("--preset", help="Apply a preset of the study (e.g. quick).")
]
Override = Annotated[
    list[str] | None,
    typer.Option("-o", "--override", help="key.path=value, e.g. -o train.epochs=5."),
]
Address = Annotated[
    str | None,
    typer.Option("--address", help="Ray cluster: auto, host:6379 or ray://host:10001."),
]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="No live table (logs, CI).")]
NoReport = Annotated[bool, typer.Option("--no-report", help="Skip the report at the end.")]


def run_and_print(start: Callable[[], Path]) -> None:
    """Call `start`; print its results directory, or the study error and exit with code 2."""
    try:
        path = start()
    except StudyError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"results: {path}")
