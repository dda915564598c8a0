"""ResNet3D-34 (He et al. 2016, in 3D as Hara et al. 2018): basic blocks [3, 4, 6, 3]."""

from __future__ import annotations

from torch import Tensor, nn

from mtl_study.models.layers import he_init

#: Blocks per stage of ResNet-34.
LAYERS_34: tuple[int, ...] = (3, 4, 6, 3)


class BasicBlock3D(nn.Module):
    """Two 3x3x3 convs with BN; a 1x1x1 conv + BN shortcut when the shape changes."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(channels)
        self.conv2 = nn.Conv3d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv3d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm3d(channels),
            )

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out))
        return (out + self.shortcut(x)).relu()


class ResNetTrunk(nn.Module):
    """Stem (Conv3d 7x7x7 stride 2, BN, ReLU, max-pool 3/2) and four stages 64..512.

    Input `(B, in_channels, D, H, W)`, output `(B, 512, ~D/32, ~H/32, ~W/32)`.
    """

    out_channels = 512

    def __init__(self, in_channels: int = 1, layers: tuple[int, ...] = LAYERS_34) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(in_channels, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(3, stride=2, padding=1),
        )
        stages: list[nn.Module] = []
        channels = 64
        for index, blocks in enumerate(layers):
            width = 64 * 2**index
            stride = 1 if index == 0 else 2
            stage = [BasicBlock3D(channels, width, stride)]
            stage += [BasicBlock3D(width, width) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*stage))
            channels = width
        self.stages = nn.Sequential(*stages)

    def cam_layer(self) -> nn.Module:
        """The last stage: its output is the last convolutional feature map."""
        return self.stages[-1]

    def forward(self, x: Tensor) -> Tensor:
        return self.stages(self.stem(x))


class ResNet3D(nn.Module):
    """ResNet3D: trunk, global average pool, linear classifier. `(B, 1, D, H, W)` -> `(B, n)`."""

    def __init__(
        self, num_classes: int = 2, in_channels: int = 1, layers: tuple[int, ...] = LAYERS_34
    ) -> None:
        super().__init__()
        self.trunk = ResNetTrunk(in_channels, layers)
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(self.trunk.out_channels, num_classes)
        )
        self.apply(he_init)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.trunk(x))
