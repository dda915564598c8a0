"""The SGD loop of SPEC 5: Nesterov SGD, per-iteration cosine LR, AMP only on CUDA."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mtl_study.train.config import TrainConfig


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; the trial cannot continue."""


def resolve_device(name: str) -> torch.device:
    """`auto` -> CUDA when available, else CPU; any other value is a torch device string."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def steps_per_epoch(n_cases: int, batch_size: int) -> int:
    """Optimiser steps per epoch; a trailing batch of one case is dropped (BatchNorm needs 2)."""
    full, rest = divmod(n_cases, batch_size)
    return full + (1 if rest > 1 else 0)


@dataclass
class EvalResult:
    """Scores of one pass over the evaluated cases: mean cross-entropy and probabilities."""

    loss: float
    index: np.ndarray
    probs: dict[str, np.ndarray]


class Trainer:
    """Owns the optimiser, the LR schedule and the AMP scaler of one model.

    Args:
        model: A TaskModel (contracts §3): `forward(batch) -> {task: logits}`.
        loss_fn: Multitask loss, `forward({task: loss}) -> scalar`; its parameters are trained.
        tasks: Tasks the model predicts.
        config: Optimiser and loop settings.
        n_train: Training cases per epoch (sets the schedule length).
        device: Where the model runs; AMP and channels_last_3d are used only on CUDA.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: nn.Module,
        tasks: Sequence[str],
        config: TrainConfig,
        n_train: int,
        device: torch.device,
    ) -> None:
        self.tasks = list(tasks)
        self.config = config
        self.device = device
        self.cuda = device.type == "cuda"
        self.model = model.to(device)
        self.loss_fn = loss_fn.to(device)
        if self.cuda and getattr(model, "uses_volume", False):
            self.model = self.model.to(memory_format=torch.channels_last_3d)
        params = [p for p in self.model.parameters() if p.requires_grad]
        params += [p for p in self.loss_fn.parameters() if p.requires_grad]
        self.optimizer = torch.optim.SGD(
            params,
            lr=config.lr_max,
            momentum=config.momentum,
            nesterov=True,
            weight_decay=config.weight_decay,
        )
        total = max(config.epochs * steps_per_epoch(n_train, config.batch_size), 1)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=total, eta_min=config.lr_min
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.cuda)

    def _to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        out = dict(batch)
        for key in ("volume", "features"):
            if key in out:
                out[key] = out[key].to(self.device, non_blocking=True)
        if self.cuda and "volume" in out:
            out["volume"] = out["volume"].contiguous(memory_format=torch.channels_last_3d)
        out["labels"] = {t: v.to(self.device) for t, v in batch["labels"].items()}
        return out

    def _task_losses(
        self, batch: dict[str, Any]
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        with torch.autocast(self.device.type, enabled=self.cuda):
            logits = self.model(batch)
        losses = {t: F.cross_entropy(logits[t].float(), batch["labels"][t]) for t in self.tasks}
        return logits, losses

    def train_epoch(self, batches: Iterable[dict[str, Any]], epoch: int) -> tuple[float, float]:
        """One pass of SGD steps (the LR steps per iteration).

        Returns:
            Case-weighted mean training loss and the learning rate of the last step.

        Raises:
            NonFiniteLossError: The total loss of a step is NaN or infinite.
        """
        self.model.train()
        self.loss_fn.train()
        total, count, lr = 0.0, 0, math.nan
        for step, raw in enumerate(batches):
            n = len(raw["index"])
            if n < 2:
                continue
            batch = self._to_device(raw)
            _, task_losses = self._task_losses(batch)
            loss = self.loss_fn(task_losses)
            if not torch.isfinite(loss):
                parts = ", ".join(f"{t}={v.item():.4g}" for t, v in task_losses.items())
                raise NonFiniteLossError(
                    f"epoch {epoch}, step {step}: training loss {loss.item()} ({parts})"
                )
            lr = self.optimizer.param_groups[0]["lr"]
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.scheduler.step()
            total += loss.item() * n
            count += n
        return (total / count if count else math.nan), lr

    @torch.no_grad()
    def evaluate(self, batches: Iterable[dict[str, Any]]) -> EvalResult:
        """Probabilities of every evaluated case and the mean per-task cross-entropy.

        The evaluation loss is the unweighted task mean, so curves compare across losses.
        """
        self.model.eval()
        index, probs = [], {t: [] for t in self.tasks}
        ce_sum = dict.fromkeys(self.tasks, 0.0)
        for raw in batches:
            batch = self._to_device(raw)
            logits, _ = self._task_losses(batch)
            index.append(torch.as_tensor(raw["index"]).cpu())
            for t in self.tasks:
                values = logits[t].float()
                ce_sum[t] += F.cross_entropy(values, batch["labels"][t], reduction="sum").item()
                probs[t].append(torch.softmax(values, dim=1).cpu())
        n = sum(len(i) for i in index)
        loss = float(np.mean([ce_sum[t] / n for t in self.tasks])) if n else math.nan
        return EvalResult(
            loss=loss,
            index=torch.cat(index).numpy(),
            probs={t: torch.cat(v).numpy().astype(np.float64) for t, v in probs.items()},
        )

    def state_dict(self) -> dict[str, Any]:
        """Model, loss, optimiser, scheduler and scaler states (for checkpoints)."""
        return {
            "model": self.model.state_dict(),
            "loss": self.loss_fn.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Inverse of `state_dict`."""
        self.model.load_state_dict(state["model"])
        self.loss_fn.load_state_dict(state["loss"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
