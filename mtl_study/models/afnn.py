"""AFNN (SPEC 3): a feed-forward net on the radiomics feature vector, with its own scaler.

The published features span 1e-4 .. 1e12 and are heavy-tailed, so raw inputs would let a
handful of columns dominate the first layer. `FeatureScaler` learns, from the training split
only, which columns to compress with a signed log (max |x| above `log_threshold`) and the
mean and std of every column after that; it keeps them as buffers, so they travel with
checkpoints.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from mtl_study.models.layers import he_init

#: Hidden layer widths; the last one is the 32-d representation COVID-MTL concatenates.
HIDDEN: tuple[int, ...] = (256, 128, 64, 32)


def signed_log1p(x: Tensor) -> Tensor:
    """sign(x) * log(1 + |x|): monotone, defined for negatives, ~x near 0."""
    return torch.sign(x) * torch.log1p(torch.abs(x))


class FeatureScaler(nn.Module):
    """Signed-log on heavy columns, then standardisation; fitted on the training split.

    `forward` maps `(B, F)` raw features to standardised values clipped to `[-clip, clip]`;
    missing values (NaN) become 0, the training mean. Columns that are constant in training
    keep std 1.
    """

    def __init__(self, n_features: int, log_threshold: float = 1e3, clip: float = 10.0) -> None:
        super().__init__()
        self.n_features = n_features
        self.log_threshold = log_threshold
        self.clip = clip
        self.register_buffer("log_columns", torch.zeros(n_features, dtype=torch.bool))
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    def fit(self, features: Tensor | np.ndarray) -> FeatureScaler:
        """Learn log columns, mean and std from the training features `(N, F)`."""
        values = torch.as_tensor(np.asarray(features, dtype=np.float64))
        if values.dim() != 2 or values.shape[1] != self.n_features:
            raise ValueError(
                f"FeatureScaler.fit: expected (N, {self.n_features}) features, "
                f"got shape {tuple(values.shape)}"
            )
        finite = torch.where(torch.isfinite(values), values, torch.nan)
        log_columns = torch.nan_to_num(finite.abs(), nan=0.0).amax(dim=0) > self.log_threshold
        transformed = torch.where(log_columns, signed_log1p(finite), finite)
        mean = torch.nan_to_num(transformed.nanmean(dim=0), nan=0.0)
        std = torch.nan_to_num((transformed - mean).pow(2).nanmean(dim=0).sqrt(), nan=1.0)
        std = torch.where(std > 1e-12, std, torch.ones_like(std))
        self.log_columns.copy_(log_columns)
        self.mean.copy_(mean.float())
        self.std.copy_(std.float())
        self.fitted.fill_(True)
        return self

    def forward(self, x: Tensor) -> Tensor:
        if not bool(self.fitted):
            raise RuntimeError(
                "FeatureScaler is not fitted: call model.fit_feature_scaler(train_features) "
                "with the training split's features before the first forward"
            )
        if x.dim() != 2 or x.shape[1] != self.n_features:
            raise ValueError(
                f"AFNN expects features (B, {self.n_features}), got shape {tuple(x.shape)}"
            )
        x = x.float()
        x = torch.where(self.log_columns, signed_log1p(x), x)
        z = torch.nan_to_num((x - self.mean) / self.std, nan=0.0)
        return z.clamp(-self.clip, self.clip)


class AFNNEncoder(nn.Module):
    """Scaler, then Linear + ReLU (+ dropout) layers 256, 128, 64, 32: `(B, F)` -> `(B, 32)`."""

    out_features = HIDDEN[-1]

    def __init__(self, n_features: int, dropout: float = 0.2, log_threshold: float = 1e3):
        super().__init__()
        self.scaler = FeatureScaler(n_features, log_threshold)
        layers: list[nn.Module] = []
        width = n_features
        for hidden in HIDDEN:
            layers += [nn.Linear(width, hidden), nn.ReLU(inplace=True)]
            if hidden != HIDDEN[-1]:
                layers.append(nn.Dropout(dropout))
            width = hidden
        self.layers = nn.Sequential(*layers)

    def forward(self, features: Tensor) -> Tensor:
        return self.layers(self.scaler(features))


class AFNN(nn.Module):
    """AFNN classifier: encoder, then a linear layer to classes. `(B, F)` -> logits `(B, n)`."""

    def __init__(
        self,
        n_features: int = 375,
        num_classes: int = 2,
        dropout: float = 0.2,
        log_threshold: float = 1e3,
    ) -> None:
        super().__init__()
        self.encoder = AFNNEncoder(n_features, dropout, log_threshold)
        self.classifier = nn.Linear(self.encoder.out_features, num_classes)
        self.apply(he_init)

    def fit_feature_scaler(self, features: Tensor | np.ndarray) -> AFNN:
        """Fit the input scaler on the training split's features `(N, F)`."""
        self.encoder.scaler.fit(features)
        return self

    def forward(self, features: Tensor) -> Tensor:
        return self.classifier(self.encoder(features))
