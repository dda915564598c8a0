"""Random-weighted loss (COVID-MTL, Bao et al. 2021): Dirichlet task weights per iteration."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import torch
from torch import Tensor

from mtl_study.losses._base import MultiTaskLoss


class TwoTaskDraw(StrEnum):
    """How K = 2 weights (p, 1 - p) are drawn."""

    DIRICHLET = "dirichlet"  # p = mean of n Dirichlet(1, 1) draws, like any K
    UNIFORM = "uniform"  # p ~ U(0, 1), one draw, n ignored


def random_task_weights(
    k: int, n: int = 2, generator: torch.Generator | None = None, two_task: str = "dirichlet"
) -> Tensor:
    """Mean of `n` Dirichlet(1, ..., 1) draws over `k` tasks: positive weights summing to 1.

    Larger `n` concentrates the weights around 1/k (n -> inf gives the mean loss).
    Dirichlet(1, ..., 1) is sampled as normalised Exp(1) variables, so `generator` alone
    decides the draw.

    Returns:
        float64 tensor `(k,)`.
    """
    if k < 1 or n < 1:
        raise ValueError(f"random_task_weights: need k >= 1 and n >= 1, got k={k}, n={n}")
    device = generator.device if generator is not None else "cpu"
    if k == 2 and TwoTaskDraw(two_task) is TwoTaskDraw.UNIFORM:
        p = torch.rand((), generator=generator, device=device, dtype=torch.float64)
        return torch.stack([p, 1.0 - p])
    gamma = torch.empty(n, k, dtype=torch.float64, device=device).exponential_(generator=generator)
    gamma = gamma.clamp_min(torch.finfo(torch.float64).tiny)
    return (gamma / gamma.sum(dim=1, keepdim=True)).mean(dim=0)


class RandomWeightedLoss(MultiTaskLoss):
    """total = sum_k w_k L_k with fresh `random_task_weights(K, n)` at every training call.

    In eval mode (`loss.eval()`) the weights are 1/K, so evaluation losses are comparable
    across epochs.

    Args:
        n: Dirichlet draws averaged per iteration (the paper's draw count, default 2).
        two_task: K = 2 only: `dirichlet` (as any K) or `uniform` (p ~ U(0, 1)).
    """

    def __init__(
        self,
        tasks: Iterable[str],
        generator: torch.Generator | None = None,
        n: int = 2,
        two_task: str = "dirichlet",
    ) -> None:
        super().__init__(tasks, generator)
        self.n = n
        self.two_task = two_task

    def weights(self, losses: Tensor) -> Tensor:
        if not self.training:
            return torch.full_like(losses, 1.0 / len(self.tasks))
        draw = random_task_weights(len(self.tasks), self.n, self.generator, self.two_task)
        return draw.to(dtype=losses.dtype, device=losses.device)
