"""Resampling to the 1 x 1 x 1 mm grid the segmenters and the CNN assume (SPEC 2.2)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import SimpleITK as sitk


def resample(
    array: np.ndarray,
    spacing: Sequence[float],
    new_spacing: Sequence[float] = (1.0, 1.0, 1.0),
    is_mask: bool = False,
) -> np.ndarray:
    """Resample a `(D, H, W)` array given its `(z, y, x)` spacing in mm.

    Args:
        array: Volume (uint16 shifted HU) or mask (bool / integer labels).
        spacing: Current voxel size `(z, y, x)` in mm.
        new_spacing: Target voxel size `(z, y, x)` in mm.
        is_mask: Nearest-neighbour for masks, linear for intensities.

    Returns:
        The resampled array, same dtype as the input (masks come back bool).
    """
    spacing = tuple(float(s) for s in spacing)
    new_spacing = tuple(float(s) for s in new_spacing)
    if np.allclose(spacing, new_spacing):
        return array.astype(bool) if is_mask else array
    source = array.astype(np.uint8) if is_mask else array
    image = sitk.GetImageFromArray(source)
    image.SetSpacing(spacing[::-1])
    size = [
        max(1, round(n * s / t))
        for n, s, t in zip(array.shape[::-1], spacing[::-1], new_spacing[::-1], strict=True)
    ]
    out = sitk.Resample(
        image,
        size,
        sitk.Transform(),
        sitk.sitkNearestNeighbor if is_mask else sitk.sitkLinear,
        image.GetOrigin(),
        new_spacing[::-1],
        image.GetDirection(),
        0,
        image.GetPixelID(),
    )
    result = sitk.GetArrayFromImage(out)
    return result.astype(bool) if is_mask else result
