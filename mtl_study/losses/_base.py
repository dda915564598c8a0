"""Base class of the multitask losses: combine per-task losses into one scalar."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

import torch
from torch import Tensor, nn

from mtl_study.data.schema import TASKS


class MultiTaskLoss(nn.Module, ABC):
    """Combines per-task losses `{task: L_k}` into the total the optimiser minimises.

    Called by the trainer once per training iteration (and for evaluation losses) with the
    cross-entropy of each task. After each call `last_weights` holds the weight each task got
    (task -> float), for logging. Parameters of a subclass (learned weights) must go into the
    optimiser together with the model's. Random subclasses draw from `generator`, owned by
    the trial, so a run is reproducible.

    Args:
        tasks: task names, in order; `forward` expects exactly these keys.
        generator: source of random draws (None: torch's global RNG).
    """

    def __init__(self, tasks: Iterable[str], generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.tasks = tuple(tasks)
        unknown = [task for task in self.tasks if task not in TASKS]
        if unknown or not self.tasks or len(set(self.tasks)) != len(self.tasks):
            raise ValueError(
                f"{type(self).__name__}: tasks must be distinct values from {list(TASKS)}, "
                f"got {list(self.tasks)}"
            )
        self.generator = generator
        self.last_weights: dict[str, float] = {}

    def set_generator(self, generator: torch.Generator | None) -> None:
        """Draw from `generator` (the trial's) from now on."""
        self.generator = generator

    def stack(self, task_losses: dict[str, Tensor]) -> Tensor:
        """The losses as a `(K,)` tensor in task order; the keys must be exactly `tasks`."""
        if set(task_losses) != set(self.tasks):
            raise KeyError(
                f"{type(self).__name__} expects losses for {list(self.tasks)}, "
                f"got {sorted(task_losses)}"
            )
        return torch.stack([task_losses[task].reshape(()) for task in self.tasks])

    @abstractmethod
    def weights(self, losses: Tensor) -> Tensor:
        """Weights `(K,)` for this iteration's losses `(K,)`."""

    def regulariser(self) -> Tensor | float:
        """Term added to the weighted sum (learned weights need one); 0 by default."""
        return 0.0

    def forward(self, task_losses: dict[str, Tensor]) -> Tensor:
        """sum_k w_k L_k + regulariser (scalar)."""
        losses = self.stack(task_losses)
        weights = self.weights(losses)
        self.last_weights = dict(zip(self.tasks, weights.detach().cpu().tolist(), strict=True))
        return (weights * losses).sum() + self.regulariser()
