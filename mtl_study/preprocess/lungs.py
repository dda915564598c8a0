"""Left and right lung as separate labels, for volumes per lung and sanity checks.

Masks usually join the lungs through the trachea and main bronchi (or at the anterior
junction line), so one 3D component holds both. Eroding until the component splits gives
one seed per lung; every mask voxel then goes to the nearest seed.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: A second component counts as a lung only from this share of the largest one.
MIN_LUNG_RATIO = 0.1


def _two_largest(labels: np.ndarray, ratio: float) -> list[int]:
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    order = [int(i) for i in np.argsort(sizes)[::-1][:2] if sizes[i] > 0]
    return [i for i in order if sizes[i] >= ratio * sizes[order[0]]]


def label_lungs(mask: np.ndarray, max_erosion: int = 15) -> np.ndarray:
    """Label image: 1 and 2 for the two lungs (largest first), 0 elsewhere.

    Args:
        mask: `(D, H, W)` bool lung mask at 1 mm.
        max_erosion: Erosion steps (voxels) tried to separate joined lungs.

    Returns:
        uint8 labels; only label 1 when the lungs cannot be separated.
    """
    out = np.zeros(mask.shape, dtype=np.uint8)
    labels, n = ndi.label(mask)
    if n == 0:
        return out
    keep = _two_largest(labels, MIN_LUNG_RATIO)
    if len(keep) == 2:
        for value, index in enumerate(keep, start=1):
            out[labels == index] = value
        return _ordered(out)
    box = ndi.find_objects((labels == keep[0]).astype(np.uint8))[0]
    sub = labels[box] == keep[0]
    eroded = sub
    for _ in range(max_erosion):
        eroded = ndi.binary_erosion(eroded)
        parts, count = ndi.label(eroded)
        seeds = _two_largest(parts, MIN_LUNG_RATIO) if count >= 2 else []
        if len(seeds) == 2:
            seed_labels = np.zeros(sub.shape, dtype=np.uint8)
            seed_labels[parts == seeds[0]] = 1
            seed_labels[parts == seeds[1]] = 2
            nearest = ndi.distance_transform_edt(
                seed_labels == 0, return_distances=False, return_indices=True
            )
            out[box] = np.where(sub, seed_labels[tuple(nearest)], 0)
            return _ordered(out)
    out[box] = sub
    return out


def _ordered(labels: np.ndarray) -> np.ndarray:
    """Relabel so that 1 is the larger lung."""
    sizes = np.bincount(labels.ravel(), minlength=3)
    if sizes[2] > sizes[1]:
        labels = np.choose(labels, [0, 2, 1]).astype(np.uint8)
    return labels


def lung_litres(mask: np.ndarray, voxel_mm3: float = 1.0) -> list[float]:
    """Volume of each lung in litres, larger first (one entry when they cannot be split)."""
    sizes = np.bincount(label_lungs(mask).ravel())[1:]
    return [float(s) * voxel_mm3 * 1e-6 for s in sizes if s > 0]


def count_components(mask: np.ndarray) -> int:
    """Number of 3D connected components of a mask."""
    return int(ndi.label(mask)[1])
