"""Fixed-size crop around both lungs: the CNN input box (SPEC 2.6)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: SPEC 2.6 crop box `(D, H, W)` in voxels at 1 mm.
DEFAULT_CROP_SHAPE: tuple[int, int, int] = (200, 250, 250)


def crop_box(mask: np.ndarray, shape: Sequence[int]) -> tuple[slice, ...]:
    """Box of `shape` centred on the bounding box of `mask`, in source coordinates.

    The box may extend beyond the volume (padding fills it) or cut into lungs larger than
    `shape` (centred, so both lungs lose the same margin).
    """
    coords = np.nonzero(mask)
    if len(coords[0]) == 0:
        centre = [n // 2 for n in mask.shape]
    else:
        centre = [(int(c.min()) + int(c.max()) + 1) // 2 for c in coords]
    return tuple(slice(c - s // 2, c - s // 2 + s) for c, s in zip(centre, shape, strict=True))


def _take(array: np.ndarray, box: tuple[slice, ...]) -> np.ndarray:
    """`array[box]` with zeros where the box leaves the array."""
    out = np.zeros([s.stop - s.start for s in box], dtype=array.dtype)
    src, dst = [], []
    for s, n in zip(box, array.shape, strict=True):
        lo, hi = max(s.start, 0), min(s.stop, n)
        src.append(slice(lo, max(lo, hi)))
        dst.append(slice(lo - s.start, lo - s.start + max(0, hi - lo)))
    out[tuple(dst)] = array[tuple(src)]
    return out


def crop_lungs(
    volume: np.ndarray, mask: np.ndarray, shape: Sequence[int] = DEFAULT_CROP_SHAPE
) -> tuple[np.ndarray, np.ndarray]:
    """Lungs-only volume and mask cropped (or zero-padded) to `shape`.

    Args:
        volume: `(D, H, W)` uint16 shifted HU at 1 mm.
        mask: `(D, H, W)` bool lung mask.
        shape: Output `(D, H, W)`.

    Returns:
        `(volume, mask)`: uint16 with 0 outside the lungs, and bool, both of `shape`.
    """
    if volume.shape != mask.shape:
        raise ValueError(f"volume {volume.shape} and mask {mask.shape} differ in shape")
    box = crop_box(mask, shape)
    cropped_mask = _take(mask.astype(bool, copy=False), box)
    cropped = _take(volume, box)
    cropped[~cropped_mask] = 0
    return cropped.astype(np.uint16, copy=False), cropped_mask
