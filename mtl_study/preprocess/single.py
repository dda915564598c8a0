"""One scan on its own (`mtl-study segment`): lung mask on the scan's grid, overlay, volumes."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mtl_study.io import Scan, read_scan, write_mask
from mtl_study.preprocess.lungs import count_components, label_lungs
from mtl_study.preprocess.resample import resample
from mtl_study.preprocess.segmenters import RefinedSegmenter, build
from mtl_study.preprocess.segmenters.classical import classical_mask

#: Share of the lung's axial extent at which the overlay shows a slice.
OVERLAY_LEVELS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)


@dataclass
class SegmentResult:
    """What `segment_scan` wrote and measured.

    Attributes:
        mask_path: Lung mask (NIfTI, uint8 1 = lung) on the input scan's grid.
        overlay_path: PNG of a few axial slices with the mask outline.
        lung_litres: Volume per lung, larger first (one entry if the lungs stay joined).
        components: 3D connected components of the mask.
        seconds: Wall time.
    """

    mask_path: Path
    overlay_path: Path
    lung_litres: list[float] = field(default_factory=list)
    components: int = 0
    seconds: float = 0.0


def _fit(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Crop or zero-pad `array` at its far end to `shape` (resampling rounds sizes)."""
    out = np.zeros(shape, dtype=array.dtype)
    common = tuple(slice(0, min(a, b)) for a, b in zip(array.shape, shape, strict=True))
    out[common] = array[common]
    return out


def segment_scan(
    path: str | os.PathLike[str], out: str | os.PathLike[str], segmenter: str = "refined"
) -> SegmentResult:
    """Segment the lungs of one scan (file or DICOM folder) and write mask and overlay.

    Args:
        path: The scan.
        out: Output directory (created).
        segmenter: Registered segmenter name.

    Returns:
        Paths written, litres per lung, components.

    Raises:
        ScanReadError: The scan cannot be read.
        UnknownNameError: Unknown segmenter.
    """
    start = time.perf_counter()
    model = build(segmenter)
    scan = read_scan(path)
    volume = resample(scan.array, scan.spacing)
    if isinstance(model, RefinedSegmenter):
        mask = model.refine(volume, classical_mask(volume))
    else:
        mask = model.segment(volume)
    lungs = label_lungs(mask)
    sizes = np.bincount(lungs.ravel())[1:]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(path).name.split(".")[0] or "scan"
    native = _fit(resample(mask, (1.0, 1.0, 1.0), scan.spacing, is_mask=True), scan.shape)
    mask_path = write_mask(out / f"{stem}_lungs.nii.gz", native, scan)
    overlay_path = write_overlay(out / f"{stem}_overlay.png", scan, native)
    return SegmentResult(
        mask_path=mask_path,
        overlay_path=overlay_path,
        lung_litres=[float(s) * 1e-6 for s in sizes if s > 0],
        components=count_components(mask),
        seconds=time.perf_counter() - start,
    )


def write_overlay(path: Path, scan: Scan, mask: np.ndarray) -> Path:
    """PNG of axial slices across the lungs with the mask outline in red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    slices = np.flatnonzero(mask.any(axis=(1, 2)))
    if len(slices) == 0:
        slices = np.arange(scan.shape[0])
    picks = sorted({int(slices[int(q * (len(slices) - 1))]) for q in OVERLAY_LEVELS})
    aspect = scan.spacing[1] / scan.spacing[2]
    fig, axes = plt.subplots(1, len(picks), figsize=(4 * len(picks), 4), squeeze=False)
    for ax, z in zip(axes[0], picks, strict=True):
        ax.imshow(scan.array[z], cmap="gray", vmin=0, vmax=1624, aspect=aspect)
        if mask[z].any():
            ax.contour(mask[z], levels=[0.5], colors="red", linewidths=0.8)
        ax.set_title(f"slice {z}")
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
