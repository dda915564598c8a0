"""Classical unsupervised lung mask: the Kaggle Data Science Bowl 2017 thresholding recipe."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from mtl_study.preprocess.segmenters._base import AIR_THRESHOLD, Segmenter

#: Connectivity inside one axial slice only (no link between slices).
_IN_PLANE = np.zeros((3, 3, 3), dtype=bool)
_IN_PLANE[1] = ndi.generate_binary_structure(2, 1)


def _clear_slice_borders(air: np.ndarray) -> np.ndarray:
    """Drop, slice by slice, the air components that touch the slice border (outside air)."""
    labels, _ = ndi.label(air, structure=_IN_PLANE)
    border = np.concatenate(
        [labels[:, 0, :], labels[:, -1, :], labels[:, :, 0], labels[:, :, -1]], axis=1
    )
    touching = np.unique(border)
    return air & ~np.isin(labels, touching[touching > 0])


def _body(volume: np.ndarray, threshold: int) -> np.ndarray:
    """Largest 3D tissue component with its slice holes filled: everything inside the skin."""
    tissue = volume >= threshold
    labels, n = ndi.label(tissue)
    if n == 0:
        return tissue
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    body = labels == int(sizes.argmax())
    return fill_slices(body)


def fill_slices(mask: np.ndarray) -> np.ndarray:
    """Fill holes in every axial slice (vessels and nodules inside the lung air)."""
    out = np.empty_like(mask)
    for z in range(mask.shape[0]):
        out[z] = ndi.binary_fill_holes(mask[z])
    return out


def largest_components(mask: np.ndarray, n: int = 2, min_ratio: float = 0.1) -> np.ndarray:
    """Keep the `n` largest 3D components; later ones only if >= `min_ratio` of the largest.

    The ratio keeps a single merged lung pair from dragging in bowel gas as a "second lung".
    """
    labels, count = ndi.label(mask)
    if count == 0:
        return mask.astype(bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    order = np.argsort(sizes)[::-1][:n]
    keep = [int(i) for i in order if sizes[i] > 0 and sizes[i] >= min_ratio * sizes[order[0]]]
    return np.isin(labels, keep)


def classical_mask(volume: np.ndarray, threshold: int = AIR_THRESHOLD) -> np.ndarray:
    """SPEC 2.3: threshold air, clear slice borders, keep body air, fill slices, two lungs.

    Args:
        volume: `(D, H, W)` uint16 shifted HU at 1 mm.
        threshold: Air threshold on the shifted scale (604 = -420 HU).

    Returns:
        `(D, H, W)` bool lung mask.
    """
    air = volume < threshold
    air = _clear_slice_borders(air)
    air &= _body(volume, threshold)
    lungs = largest_components(air, n=2)
    return fill_slices(lungs)


class ClassicalSegmenter(Segmenter):
    """Thresholding only: fast, but misses dense (white-lung) regions at the lung edge.

    Args:
        threshold: Air threshold on the shifted-HU scale.
    """

    name = "classical"

    def __init__(self, threshold: int = AIR_THRESHOLD) -> None:
        self.threshold = threshold

    def segment(self, volume: np.ndarray) -> np.ndarray:
        """Lung mask of `volume` (see `classical_mask`)."""
        return classical_mask(volume, self.threshold)
