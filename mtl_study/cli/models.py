"""`mtl-study models` commands: what study files may name, read from the registries."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mtl_study.losses.registry import LOSSES
from mtl_study.models.catalog import MODELS, allowed_inputs, reserved_options, single_task
from mtl_study.models.registry import Registry

app = typer.Typer(no_args_is_help=True)


class Family(StrEnum):
    """Which registry to list."""

    ALL = "all"
    MODELS = "models"
    LOSSES = "losses"


def _table(registry: Registry, title: str) -> Table:
    table = Table(title=title, show_lines=True, title_justify="left")
    table.add_column("name", style="bold cyan", no_wrap=True)
    table.add_column("description")
    table.add_column("options (type = default)")
    for name in registry.names():
        entry = registry.entry(name)
        hidden = reserved_options(name) if registry is MODELS else {}
        lines = [
            f"[green]{key}[/]: {option.describe()} — {option.help}"
            for key, option in entry.options.items()
            if key not in hidden
        ]
        summary = entry.summary
        if registry is MODELS:
            inputs = ", ".join(i.value for i in allowed_inputs(name))
            tasks = "one task" if single_task(name) else "any tasks"
            summary += f"\n[dim]inputs: {inputs}; {tasks}[/]"
        table.add_row(name, summary, "\n".join(lines) or "[dim](none)[/]")
    return table


@app.command("list")
def list_(
    family: Annotated[
        Family, typer.Option("--family", "-f", help="List models, losses or both.")
    ] = Family.ALL,
) -> None:
    """List registered models and multitask losses with their options and defaults."""
    console = Console(width=max(Console().width, 140))
    if family in (Family.ALL, Family.MODELS):
        console.print(_table(MODELS, "Models (study file: model + model_options)"))
    if family in (Family.ALL, Family.LOSSES):
        console.print(_table(LOSSES, "Multitask losses (study file: loss + loss_options)"))
