"""Building blocks shared by the networks: BatchNorm settings and He initialisation."""

from __future__ import annotations

from torch import nn


def bn3d(channels: int) -> nn.BatchNorm3d:
    """BatchNorm with the SPEC's SqueezeNet3D settings (eps 1e-3, momentum 0.01 = Keras 0.99)."""
    return nn.BatchNorm3d(channels, eps=1e-3, momentum=0.01)


def he_init(module: nn.Module) -> None:
    """He (Kaiming normal) initialisation: convolutions fan_out, linear layers fan_in.

    Biases start at 0, BatchNorm at identity. Apply with `module.apply(he_init)`.
    """
    if isinstance(module, nn.Conv3d):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(module, nn.Linear):
        nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
    elif isinstance(module, nn.BatchNorm3d | nn.BatchNorm1d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
        return
    else:
        return
    if module.bias is not None:
        nn.init.zeros_(module.bias)
