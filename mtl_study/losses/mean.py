"""Mean loss: (1/K) sum_k L_k, the plain multitask baseline."""

from __future__ import annotations

import torch
from torch import Tensor

from mtl_study.losses._base import MultiTaskLoss


class MeanLoss(MultiTaskLoss):
    """Every task weighs 1/K."""

    def weights(self, losses: Tensor) -> Tensor:
        return torch.full_like(losses, 1.0 / len(self.tasks))
