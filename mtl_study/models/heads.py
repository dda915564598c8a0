"""Task heads: what turns a shared trunk's feature map (and AFNN embedding) into logits.

Every head has the same call, `head(feature_map, embedding)`, with either argument None when
the model does not read that input, so `TaskModel` treats all models alike.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtl_study.models.layers import bn3d, he_init

#: Width of each task's representation before the classifier (SPEC 3: 32-d).
REPRESENTATION = 32


class ConvRepresentation(nn.Sequential):
    """COVID-MTL task-specific layers: 1x1x1 conv 512 -> 128 + BN + ReLU, global pool,
    dropout, linear 128 -> 32 + ReLU. `(B, C, d, h, w)` -> `(B, 32)`."""

    def __init__(self, in_channels: int, dropout: float = 0.3, width: int = 128) -> None:
        super().__init__(
            nn.Conv3d(in_channels, width, 1),
            bn3d(width),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool3d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(width, REPRESENTATION),
            nn.ReLU(inplace=True),
        )


class DenseRepresentation(nn.Sequential):
    """Fully connected task-specific layers for transfer: global pool, linear C -> 128 + ReLU,
    dropout, linear 128 -> 32 + ReLU. `(B, C, d, h, w)` -> `(B, 32)`."""

    def __init__(self, in_channels: int, dropout: float = 0.3, width: int = 128) -> None:
        super().__init__(
            nn.AdaptiveAvgPool3d(1),
            nn.Flatten(),
            nn.Linear(in_channels, width),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(width, REPRESENTATION),
            nn.ReLU(inplace=True),
        )


class TaskHead(nn.Module):
    """Representation of the feature map (if any), concatenated with the AFNN embedding
    (if `embedding_dim` > 0), then one linear classifier to `num_classes` logits."""

    def __init__(
        self, representation: nn.Module | None, num_classes: int, embedding_dim: int = 0
    ) -> None:
        super().__init__()
        if representation is None and embedding_dim == 0:
            raise ValueError("TaskHead needs a representation, an embedding or both")
        self.representation = representation
        self.embedding_dim = embedding_dim
        width = (REPRESENTATION if representation is not None else 0) + embedding_dim
        self.classifier = nn.Linear(width, num_classes)
        self.apply(he_init)

    def forward(self, feature_map: Tensor | None, embedding: Tensor | None) -> Tensor:
        parts = []
        if self.representation is not None:
            parts.append(self.representation(feature_map))
        if self.embedding_dim:
            parts.append(embedding)
        return self.classifier(torch.cat(parts, dim=1))


class VolumeHead(nn.Module):
    """Adapts a single-task network's own classifier (feature map -> logits) to the head call."""

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, feature_map: Tensor | None, embedding: Tensor | None) -> Tensor:
        return self.classifier(feature_map)
