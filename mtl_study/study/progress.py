"""Live terminal table of trials (variant, status, epoch, metric), fed by a Tune callback."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ray.tune import Callback
from rich.console import Console
from rich.live import Live
from rich.table import Table


@dataclass
class _Row:
    variant: str
    status: str = "PENDING"
    epoch: int | None = None
    metric: float | None = None


class TrialTable(Callback):
    """Rich live table of every trial of a study; shared by the study's Tune stages.

    The runner registers trials up front (finished ones of a resumed run as `DONE`) and
    passes this object as a Tune callback; Tune calls the `on_trial_*` hooks on the driver.
    """

    def __init__(self, metric: str, console: Console | None = None, live: bool = True) -> None:
        self.metric = metric
        self.console = console or Console()
        # A live table only redraws on a terminal; in a log, one line per ended trial instead.
        self.live = live and self.console.is_terminal
        self._rows: dict[str, _Row] = {}
        self._live: Live | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Tune pickles its callbacks with the experiment state; drop the terminal handles."""
        state = dict(self.__dict__)
        state.update(console=None, _live=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.console = Console()

    def register(self, trial_id: str, variant: str, status: str = "PENDING") -> None:
        """Add a trial to the table before it runs (or as already done)."""
        self._rows.setdefault(trial_id, _Row(variant=variant, status=status))
        self._refresh()

    def set_status(self, trial_id: str, status: str, metric: float | None = None) -> None:
        """Set a trial's status; without the live table, an ended trial prints one line."""
        row = self._rows.setdefault(trial_id, _Row(variant=trial_id))
        changed = row.status != status
        row.status = status
        if metric is not None:
            row.metric = metric
        self._refresh()
        if not self.live and changed and status in ("TERMINATED", "ERROR"):
            value = "" if row.metric is None else f" {self.metric}={row.metric:.3f}"
            self.console.print(f"{status:<10} {trial_id} (epoch {row.epoch}){value}")

    def start(self) -> None:
        """Begin live rendering (no-op when not live)."""
        if self.live and self._live is None:
            self._live = Live(self.render(), console=self.console, refresh_per_second=2)
            self._live.start()

    def stop(self) -> None:
        """Stop live rendering and leave the final table on screen."""
        if self._live is not None:
            self._live.update(self.render())
            self._live.stop()
            self._live = None

    def render(self) -> Table:
        """The table as it stands."""
        table = Table(title="trials", expand=False)
        for name in ("trial", "variant", "status", "epoch", self.metric):
            table.add_column(name)
        for trial_id, row in self._rows.items():
            metric = "" if row.metric is None or math.isnan(row.metric) else f"{row.metric:.3f}"
            epoch = "" if row.epoch is None else str(row.epoch)
            style = {"ERROR": "red", "TERMINATED": "green", "DONE": "dim"}.get(row.status, "")
            table.add_row(trial_id, row.variant, row.status, epoch, metric, style=style)
        return table

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self.render())

    def _id(self, trial: Any) -> str:
        config = trial.config or {}
        if "optuna_number" in config:
            return f"search-{int(config['optuna_number']):04d}"
        return str(config.get("trial_id") or trial.trial_id)

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.set_status(self._id(trial), "RUNNING")

    def on_trial_result(
        self, iteration: int, trials: list, trial: Any, result: dict, **info: Any
    ) -> None:
        row = self._rows.setdefault(self._id(trial), _Row(variant=_variant(trial)))
        row.status = "ERROR" if result.get("status") == "ERROR" else "RUNNING"
        row.epoch = result.get("epoch", row.epoch)
        value = result.get(self.metric)
        if isinstance(value, int | float):
            row.metric = float(value)
        self._refresh()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        row = self._rows.get(self._id(trial))
        if row is not None and row.status != "ERROR":
            self.set_status(self._id(trial), "TERMINATED")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.set_status(self._id(trial), "ERROR")


def _variant(trial: Any) -> str:
    """A search trial's variant: its sampled parameters."""
    config = {k: v for k, v in (trial.config or {}).items() if k != "optuna_number"}
    return " ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in config.items()
    )
