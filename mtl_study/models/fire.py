"""The 3D Fire module of SqueezeNet (Iandola et al. 2016), as SqueezeNet3D uses it."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtl_study.models.layers import bn3d


class Fire(nn.Module):
    """1x1x1 squeeze conv + BN + ReLU, then parallel 1x1x1 and 3x3x3 expand convs with BN,
    concatenated and passed through ReLU; `residual` adds the input (needs equal channels).

    Input `(B, in_channels, D, H, W)`, output `(B, 2 * expand, D, H, W)`.
    """

    def __init__(self, in_channels: int, squeeze: int, expand: int, residual: bool = False):
        super().__init__()
        if residual and in_channels != 2 * expand:
            raise ValueError(
                f"residual Fire needs in_channels == 2 * expand, got {in_channels} and {expand}"
            )
        self.residual = residual
        self.squeeze = nn.Sequential(
            nn.Conv3d(in_channels, squeeze, 1), bn3d(squeeze), nn.ReLU(inplace=True)
        )
        self.expand1x1 = nn.Sequential(nn.Conv3d(squeeze, expand, 1), bn3d(expand))
        self.expand3x3 = nn.Sequential(nn.Conv3d(squeeze, expand, 3, padding=1), bn3d(expand))

    def forward(self, x: Tensor) -> Tensor:
        s = self.squeeze(x)
        out = torch.relu(torch.cat([self.expand1x1(s), self.expand3x3(s)], dim=1))
        return out + x if self.residual else out
