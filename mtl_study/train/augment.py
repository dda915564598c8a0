"""Volume preparation and training augmentation (SPEC 5), cheap enough for CPU workers.

Every random choice comes from a per-sample seed that the trial's generator draws in the main
process, so a run is reproducible whatever the number of DataLoader workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

#: Shifted-HU window mapped to [0, 1]: -1024 HU (air, and everything outside the lungs) .. 600 HU.
INTENSITY_WINDOW: tuple[float, float] = (0.0, 1624.0)


def normalise_intensity(volume: np.ndarray) -> np.ndarray:
    """Shifted HU (uint16) -> float32 in [0, 1] over the lung window."""
    low, high = INTENSITY_WINDOW
    out = (volume.astype(np.float32) - low) / (high - low)
    return np.clip(out, 0.0, 1.0, out=out)


def resize(volume: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Resample a float32 volume to `shape` (D, H, W): area averaging when shrinking every axis
    (no aliasing), trilinear otherwise; a no-op when the shape already matches."""
    if volume.shape == tuple(shape):
        return volume
    shrink = all(t <= s for t, s in zip(shape, volume.shape, strict=True))
    x = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))[None, None]
    if shrink:
        out = F.interpolate(x, size=tuple(shape), mode="area")
    else:
        out = F.interpolate(x, size=tuple(shape), mode="trilinear", align_corners=False)
    return out[0, 0].numpy()


def random_rotate(volume: np.ndarray, rng: np.random.Generator, max_degrees: float) -> np.ndarray:
    """Rotate the axial plane by an angle drawn uniformly in +-`max_degrees` (linear, zero fill)."""
    if max_degrees <= 0:
        return volume
    angle = float(rng.uniform(-max_degrees, max_degrees))
    return ndimage.rotate(volume, angle, axes=(1, 2), reshape=False, order=1, mode="constant")


def random_flip(volume: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror left-right (W axis) with probability 0.5: the lungs are roughly symmetric."""
    return volume[:, :, ::-1] if rng.random() < 0.5 else volume


def random_translate(volume: np.ndarray, rng: np.random.Generator, max_offset: float) -> np.ndarray:
    """Random crop of the zero-padded volume back to its shape: a shift of up to `max_offset`
    times each axis length, filled with 0 (outside the lungs)."""
    margins = [round(max_offset * n) for n in volume.shape]
    if not any(margins):
        return volume
    offsets = [int(rng.integers(-m, m + 1)) for m in margins]
    return _crop_or_pad(volume, volume.shape, offsets)


def _crop_or_pad(
    volume: np.ndarray, shape: tuple[int, ...], offsets: list[int] | None
) -> np.ndarray:
    """Centre `volume` in a zero array of `shape`, moved by `offsets` voxels per axis."""
    out = np.zeros(shape, dtype=volume.dtype)
    src, dst = [], []
    for axis, (n_in, n_out) in enumerate(zip(volume.shape, shape, strict=True)):
        start = (n_out - n_in) // 2 + (offsets[axis] if offsets else 0)
        lo, hi = max(start, 0), min(start + n_in, n_out)
        if hi <= lo:
            return out
        dst.append(slice(lo, hi))
        src.append(slice(lo - start, hi - start))
    out[tuple(dst)] = volume[tuple(src)]
    return out


@dataclass(frozen=True)
class VolumeTransform:
    """Turns a stored volume into a network input; random only when `seed` is given.

    Args:
        shape: Network input shape (D, H, W); volumes are resampled to it.
        augment: Apply rotation, flip and translation to seeded (training) samples.
        max_degrees: Largest axial rotation.
        max_offset: Largest translation as a fraction of each axis.
    """

    shape: tuple[int, int, int]
    augment: bool = True
    max_degrees: float = 10.0
    max_offset: float = 0.05

    def __call__(self, volume: np.ndarray, seed: int | None = None) -> np.ndarray:
        """`(D, H, W)` uint16 shifted HU -> `(1, D, H, W)` float32 contiguous."""
        out = resize(normalise_intensity(volume), self.shape)
        if self.augment and seed is not None:
            rng = np.random.default_rng(seed)
            out = random_rotate(out, rng, self.max_degrees)
            out = random_flip(out, rng)
            out = random_translate(out, rng, self.max_offset)
        return np.ascontiguousarray(out[None], dtype=np.float32)
