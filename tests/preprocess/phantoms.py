"""Tiny chest phantoms for segmenter tests: body, two lungs, vessels, subpleural lesions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def chest_phantom(
    shape: tuple[int, int, int] = (48, 80, 80), seed: int = 0, lesions: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A shifted-HU chest with dense lesions on the pleura.

    Returns:
        `(volume uint16, reference lung mask incl. lesions, lesion mask)`, all `(D, H, W)`.
    """
    rng = np.random.default_rng(seed)
    d, h, w = shape
    z, y, x = np.ogrid[:d, :h, :w]
    volume = np.full(shape, 24, dtype=np.float32)  # -1000 HU outside the body
    body = ((y - h / 2) / (0.45 * h)) ** 2 + ((x - w / 2) / (0.47 * w)) ** 2 <= 1
    body = np.broadcast_to(body, shape)
    volume[body] = 1064  # +40 HU soft tissue
    lungs = np.zeros(shape, dtype=bool)
    for cx in (0.3 * w, 0.7 * w):
        lungs |= ((z - d / 2) / (0.42 * d)) ** 2 + ((y - h / 2) / (0.33 * h)) ** 2 + (
            (x - cx) / (0.16 * w)
        ) ** 2 <= 1
    volume[lungs] = 174  # -850 HU lung
    lesion = np.zeros(shape, dtype=bool)
    surface = np.argwhere(lungs & ~np.roll(lungs, 1, axis=2) | lungs & ~np.roll(lungs, -1, axis=2))
    for _ in range(lesions):
        cz, cy, cx = surface[rng.integers(len(surface))]
        r = rng.uniform(4, 6)
        blob = (z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2 <= r**2
        lesion |= blob & lungs
    volume[lesion] = rng.choice([724, 1044])  # ground glass or consolidation
    vessels = lungs & (rng.random(shape) < 0.002)
    volume[vessels] = 1100
    volume += rng.normal(0, 15, shape).astype(np.float32)
    return np.clip(volume, 0, 4095).astype(np.uint16), lungs, lesion


def phantom_cohort(
    root: Path, n_cases: int = 4, shape: tuple[int, int, int] = (40, 64, 64)
) -> Path:
    """A cohort directory of `n_cases` phantoms with reference lung and lesion masks."""
    from mtl_study.data.cohort import save_cohort
    from mtl_study.io import Scan, write_mask, write_scan

    rows = []
    for i in range(n_cases):
        volume, lungs, lesion = chest_phantom(shape, seed=i)
        scan = Scan(volume, spacing=(1.5, 1.0, 1.0))
        case = f"case{i:02d}"
        write_scan(root / "images" / f"{case}.nii.gz", scan)
        write_mask(root / "masks" / f"{case}.nii.gz", lungs, scan)
        write_mask(root / "lesions" / f"{case}.nii.gz", lesion, scan)
        rows.append(
            {
                "case_id": case,
                "image": f"images/{case}.nii.gz",
                "mask": f"masks/{case}.nii.gz",
                "lesion": f"lesions/{case}.nii.gz",
                "ct": i % 2,
                "nat": i % 2,
                "severity": i % 3,
                "age": 50.0 + i,
                "gender": "MF"[i % 2],
                "hospital": "H1",
                "split": "train" if i % 4 else "test",
                "fold": i % 2 if i % 4 else -1,
            }
        )
    save_cohort(root, pd.DataFrame(rows), meta={"name": root.name, "source": "phantoms"})
    return root
