"""The in-memory scan every reader returns, and the shifted-HU convention."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Offset added to HU so that air (-1024 HU) becomes 0 (docs/contracts.md conventions).
HU_SHIFT = 1024
#: Largest shifted value (12-bit range).
SHIFTED_MAX = 4095

IDENTITY_DIRECTION: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


class ScanReadError(OSError):
    """A scan could not be read; the message names the file and why."""


@dataclass
class Scan:
    """A CT volume in shifted HU with its geometry, everything in `(z, y, x)` order.

    Attributes:
        array: `uint16` volume `(D, H, W)`, HU + 1024 clipped to 0..4095.
        spacing: Voxel size in mm `(z, y, x)`.
        origin: Physical position of voxel (0, 0, 0) in mm `(z, y, x)`.
        direction: Row-major 3x3 direction cosines; row = physical axis, column = index axis,
            both in `(z, y, x)` order.
    """

    array: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: tuple[float, ...] = IDENTITY_DIRECTION

    @property
    def shape(self) -> tuple[int, int, int]:
        """Volume shape `(D, H, W)`."""
        return tuple(self.array.shape)  # type: ignore[return-value]

    @property
    def hu(self) -> np.ndarray:
        """The volume in HU as `int16` (0 in shifted units becomes -1024)."""
        return self.array.astype(np.int16) - HU_SHIFT


def to_shifted_hu(hu: np.ndarray) -> np.ndarray:
    """HU (any numeric dtype) -> `uint16` HU + 1024, clipped to 0..4095."""
    shifted = np.rint(np.asarray(hu, dtype=np.float32)) + HU_SHIFT
    return np.clip(shifted, 0, SHIFTED_MAX).astype(np.uint16)


def clip_shifted(values: np.ndarray) -> np.ndarray:
    """Already-shifted values (any dtype) -> `uint16` clipped to 0..4095."""
    return np.clip(np.rint(np.asarray(values, dtype=np.float32)), 0, SHIFTED_MAX).astype(np.uint16)
