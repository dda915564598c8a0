"""`mtl-study run STUDY`: every variant x seed of a study as Ray Tune trials."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mtl_study.cli._study_options import (
    Address,
    Data,
    NoProgress,
    NoReport,
    Override,
    Preset,
    run_and_print,
)


def run(
    study: Annotated[
        str, typer.Argument(help="Shipped study (ablation, comparison, features, quick) or YAML.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results directory; an interrupted run there is resumed."),
    ] = None,
    data: Data = None,
    preset: Preset = None,
    override: Override = None,
    address: Address = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard what --out holds and start over.")
    ] = False,
    dashboard: Annotated[
        bool, typer.Option("--dashboard", help="Start the Ray dashboard on 127.0.0.1.")
    ] = False,
    no_progress: NoProgress = False,
    no_report: NoReport = False,
) -> None:
    """Run a study: every variant x seed as Ray Tune trials, then the report's main tables."""
    from mtl_study.study.runner import run_study

    run_and_print(
        lambda: run_study(
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
    )
