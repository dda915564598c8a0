"""`mtl-study search STUDY --space NAME`: an Optuna search through Ray Tune."""

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


def search(
    study: Annotated[str, typer.Argument(help="Shipped study or YAML; its first grid variant.")],
    space: Annotated[
        list[str],
        typer.Option("--space", help="Search space (dirichlet_n, max_shift or a YAML); repeat."),
    ],
    trials: Annotated[int, typer.Option("--trials", help="Total Optuna trials.")] = 20,
    out: Annotated[
        Path | None, typer.Option("--out", help="Results directory; resumes a search there.")
    ] = None,
    sampler: Annotated[
        str, typer.Option("--sampler", help="Optuna sampler: tpe, random, cmaes, qmc.")
    ] = "tpe",
    pruner: Annotated[
        str, typer.Option("--pruner", help="none, asha (Tune ASHA) or median.")
    ] = "none",
    storage: Annotated[
        str | None,
        typer.Option("--storage", help="Optuna storage URL (default sqlite:///OUT/optuna.db)."),
    ] = None,
    data: Data = None,
    preset: Preset = None,
    override: Override = None,
    address: Address = None,
    restart: Annotated[bool, typer.Option("--restart", help="Start the search over.")] = False,
    no_final: Annotated[
        bool, typer.Option("--no-final", help="Do not test the best configuration.")
    ] = False,
    no_progress: NoProgress = False,
    no_report: NoReport = False,
) -> None:
    """Search parameters by cross-validation on the training split; test the best once."""
    from mtl_study.study.search import run_search

    run_and_print(
        lambda: run_search(
            study,
            spaces=space,
            n_trials=trials,
            out=out,
            sampler=sampler,
            pruner=pruner,
            storage=storage,
            overrides=tuple(override or ()),
            data=data,
            address=address,
            restart=restart,
            progress=not no_progress,
            preset=preset,
            final=not no_final,
            report=not no_report,
        )
    )
