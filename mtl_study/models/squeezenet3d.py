"""SqueezeNet3D and ShiftNet3D (SPEC 3): a 3D SqueezeNet with 8 Fire modules.

ShiftNet3D is the same network with a `Shift3D` layer right after the stem.
"""

from __future__ import annotations

from torch import Tensor, nn

from mtl_study.models.fire import Fire
from mtl_study.models.layers import bn3d, he_init
from mtl_study.models.shift3d import Shift3D

#: (squeeze, expand, residual) of the 8 Fire modules; a max-pool precedes each pair.
FIRES: tuple[tuple[int, int, bool], ...] = (
    (32, 64, False),
    (32, 64, True),
    (64, 128, False),
    (64, 128, True),
    (96, 192, False),
    (96, 192, True),
    (128, 256, False),
    (128, 256, True),
)


def _pool() -> nn.MaxPool3d:
    # padding 1 keeps every size >= 1, so small test volumes (16 x 24 x 24) pass too.
    return nn.MaxPool3d(kernel_size=3, stride=2, padding=1)


class SqueezeTrunk(nn.Module):
    """Stem (Conv3d 3x3x3 stride 2 -> 64, BN, ReLU), optional Shift3D, then pools + Fires.

    Input `(B, in_channels, D, H, W)`, output `(B, 512, ~D/32, ~H/32, ~W/32)`.
    """

    out_channels = 2 * FIRES[-1][1]

    def __init__(self, in_channels: int = 1, shift3d: Shift3D | None = None) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(in_channels, 64, 3, stride=2, padding=1), bn3d(64), nn.ReLU(inplace=True)
        )
        self.shift3d: nn.Module = shift3d if shift3d is not None else nn.Identity()
        layers: list[nn.Module] = []
        channels = 64
        for index, (squeeze, expand, residual) in enumerate(FIRES):
            if index % 2 == 0:
                layers.append(_pool())
            layers.append(Fire(channels, squeeze, expand, residual))
            channels = 2 * expand
        self.features = nn.Sequential(*layers)

    def cam_layer(self) -> nn.Module:
        """The last Fire module: its output is the last convolutional feature map."""
        return self.features[-1]

    def forward(self, x: Tensor) -> Tensor:
        return self.features(self.shift3d(self.stem(x)))


class SqueezeClassifier(nn.Sequential):
    """SPEC classifier: dropout, 1x1x1 conv to classes, ReLU, global average pool -> `(B, n)`.

    The conv starts from N(0, 0.01) as in SqueezeNet, so first logits are small.
    """

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.3) -> None:
        super().__init__(
            nn.Dropout(dropout),
            nn.Conv3d(in_channels, num_classes, 1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool3d(1),
            nn.Flatten(),
        )

    def reset_parameters(self) -> None:
        nn.init.normal_(self[1].weight, 0.0, 0.01)
        nn.init.zeros_(self[1].bias)


class SqueezeNet3D(nn.Module):
    """SqueezeNet3D (with `shift3d`: ShiftNet3D). Input `(B, 1, D, H, W)`, logits `(B, n)`."""

    def __init__(
        self,
        num_classes: int = 2,
        in_channels: int = 1,
        dropout: float = 0.3,
        shift3d: Shift3D | None = None,
    ) -> None:
        super().__init__()
        self.trunk = SqueezeTrunk(in_channels, shift3d)
        self.classifier = SqueezeClassifier(self.trunk.out_channels, num_classes, dropout)
        self.apply(he_init)
        self.classifier.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.trunk(x))
