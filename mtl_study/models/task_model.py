"""TaskModel: the one interface the trainer, transfer and CAM code use for every model."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mtl_study.data.schema import TASKS
from mtl_study.models.afnn import AFNNEncoder
from mtl_study.models.heads import DenseRepresentation, TaskHead
from mtl_study.models.shift3d import Shift3D


class TaskModel(nn.Module):
    """A volume trunk and/or an AFNN encoder shared by all tasks, and one head per task.

    Args:
        tasks: task names (keys of `mtl_study.data.schema.TASKS`), in output order.
        trunk: `(B, 1, D, H, W)` -> `(B, C, d, h, w)` with `out_channels` and `cam_layer()`;
            None for a features-only model. A trunk with a `shift3d` attribute can toggle it.
        afnn: `(B, F)` -> `(B, 32)` encoder; None for a volume-only model.
        heads: task -> head called as `head(feature_map, embedding)`.
        single_task: the model is a single-task baseline (exactly one task, always).
        head_dropout: dropout of the heads that `replace_heads` creates.
    """

    def __init__(
        self,
        tasks: Iterable[str],
        trunk: nn.Module | None,
        afnn: AFNNEncoder | None,
        heads: dict[str, nn.Module],
        single_task: bool = False,
        head_dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.tasks = tuple(tasks)
        self.trunk = trunk
        self.afnn = afnn
        self.heads = nn.ModuleDict(heads)
        self.single_task = single_task
        self.head_dropout = head_dropout
        self.trunk_frozen = False

    @property
    def uses_volume(self) -> bool:
        """The model reads `batch["volume"]`."""
        return self.trunk is not None

    @property
    def uses_features(self) -> bool:
        """The model reads `batch["features"]`."""
        return self.afnn is not None

    def forward(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """`batch` with `volume` `(B,1,D,H,W)` and/or `features` `(B,F)` -> task -> logits."""
        for key, used in (("volume", self.uses_volume), ("features", self.uses_features)):
            if used and key not in batch:
                raise KeyError(f"this model reads batch[{key!r}], got keys {sorted(batch)}")
        feature_map = self.trunk(batch["volume"]) if self.trunk is not None else None
        embedding = self.afnn(batch["features"]) if self.afnn is not None else None
        return {task: self.heads[task](feature_map, embedding) for task in self.tasks}

    def cam_layer(self) -> nn.Module | None:
        """Module whose output `(B, C, d, h, w)` is the last convolutional feature map shared
        by all tasks (hook it for class activation maps); None without a volume trunk."""
        return self.trunk.cam_layer() if self.trunk is not None else None

    def freeze_trunk(self) -> None:
        """Freeze the convolutional trunk for transfer: no gradients, BatchNorm statistics fixed.

        Shift3D keeps following train/eval mode (keep or remove it with `set_shift3d`).
        """
        if self.trunk is None:
            raise ValueError("freeze_trunk: this model has no convolutional trunk")
        self.trunk.requires_grad_(False)
        self.trunk_frozen = True
        self.train(self.training)

    def train(self, mode: bool = True) -> TaskModel:
        super().train(mode)
        if self.trunk_frozen and self.trunk is not None:
            for module in self.trunk.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def replace_heads(self, tasks: Iterable[str]) -> None:
        """New fully connected task-specific + classification layers for `tasks` (transfer).

        Each new head pools the trunk's feature map, passes it through `DenseRepresentation`
        and, when the model reads features, concatenates the AFNN embedding.
        """
        tasks = tuple(tasks)
        check_tasks(tasks, single_task=self.single_task)
        device = next(self.parameters()).device
        heads = {
            task: TaskHead(
                DenseRepresentation(self.trunk.out_channels, self.head_dropout)
                if self.trunk is not None
                else None,
                TASKS[task],
                self.afnn.out_features if self.afnn is not None else 0,
            ).to(device)
            for task in tasks
        }
        self.heads = nn.ModuleDict(heads)
        self.tasks = tasks

    def shift3d(self) -> Shift3D | None:
        """The Shift3D layer of the trunk, or None."""
        layer = getattr(self.trunk, "shift3d", None)
        return layer if isinstance(layer, Shift3D) else None

    def set_shift3d(self, enabled: bool, **options: float | bool | int) -> None:
        """Keep/insert (`enabled`) or remove Shift3D after the stem.

        Inserting builds `Shift3D(**options)`; removing replaces it by an identity.
        Raises ValueError when the trunk has no place for Shift3D (ResNet3D, AFNN).
        """
        if self.trunk is None or not hasattr(self.trunk, "shift3d"):
            if enabled:
                raise ValueError("set_shift3d: this model's trunk has no Shift3D slot")
            return
        if not enabled:
            self.trunk.shift3d = nn.Identity()
        elif self.shift3d() is None:
            self.trunk.shift3d = Shift3D(**options).to(next(self.parameters()).device)

    def set_generator(self, generator: torch.Generator | None) -> None:
        """Make Shift3D draw from the trial's generator (reproducible runs)."""
        for module in self.modules():
            if isinstance(module, Shift3D):
                module.set_generator(generator)

    def fit_feature_scaler(self, features: Tensor | np.ndarray) -> TaskModel:
        """Fit the AFNN input scaler on the training split's features `(N, F)`."""
        if self.afnn is None:
            raise ValueError("fit_feature_scaler: this model does not read features")
        self.afnn.scaler.fit(features)
        return self


def check_tasks(tasks: tuple[str, ...], single_task: bool) -> None:
    """Raise ValueError unless `tasks` are distinct known tasks (exactly one if `single_task`)."""
    unknown = [task for task in tasks if task not in TASKS]
    if unknown or not tasks or len(set(tasks)) != len(tasks):
        raise ValueError(f"tasks must be distinct values from {list(TASKS)}, got {list(tasks)}")
    if single_task and len(tasks) != 1:
        raise ValueError(f"a single-task model takes exactly one task, got {list(tasks)}")
