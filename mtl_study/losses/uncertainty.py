"""Uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018): learned homoscedastic noise."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from mtl_study.losses._base import MultiTaskLoss


class UncertaintyLoss(MultiTaskLoss):
    """total = (1/K) sum_k exp(-s_k) L_k + s_k, with learnable log-variances s_k.

    Weights are exp(-s_k) / K, the regulariser mean_k s_k. The s_k are parameters: pass
    `loss.parameters()` to the optimiser together with the model's.

    Args:
        init_log_var: starting value of every s_k (0: all weights start equal).
    """

    def __init__(
        self,
        tasks: Iterable[str],
        generator: torch.Generator | None = None,
        init_log_var: float = 0.0,
    ) -> None:
        super().__init__(tasks, generator)
        self.log_vars = nn.Parameter(torch.full((len(self.tasks),), float(init_log_var)))

    def weights(self, losses: Tensor) -> Tensor:
        return torch.exp(-self.log_vars).to(losses.dtype) / len(self.tasks)

    def regulariser(self) -> Tensor:
        return self.log_vars.mean()
