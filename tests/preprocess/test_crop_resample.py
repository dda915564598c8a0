"""Crop box around the lungs and 1 mm resampling."""

from __future__ import annotations

import numpy as np
import pytest

from mtl_study.preprocess.crop import crop_box, crop_lungs
from mtl_study.preprocess.resample import resample


def test_crop_centres_lungs_and_zeroes_the_rest() -> None:
    volume = np.full((30, 40, 50), 1000, dtype=np.uint16)
    mask = np.zeros(volume.shape, dtype=bool)
    mask[10:20, 5:15, 30:44] = True
    volume[mask] = 200
    out, out_mask = crop_lungs(volume, mask, (16, 20, 20))
    assert out.shape == out_mask.shape == (16, 20, 20)
    assert out.dtype == np.uint16 and out_mask.dtype == bool
    assert out_mask.sum() == mask.sum()  # the box holds every lung voxel
    assert np.all(out[~out_mask] == 0) and np.all(out[out_mask] == 200)
    box = crop_box(mask, (16, 20, 20))
    assert [s.start for s in box] == [7, 0, 27]


def test_crop_pads_beyond_the_volume_and_cuts_large_lungs() -> None:
    volume = np.full((10, 10, 10), 300, dtype=np.uint16)
    mask = np.ones(volume.shape, dtype=bool)
    padded, padded_mask = crop_lungs(volume, mask, (14, 12, 6))
    assert padded.shape == (14, 12, 6)
    assert padded_mask.sum() == 10 * 10 * 6  # padded in D and H, cut in W
    assert padded[0].max() == 0 and padded[2, 1, 0] == 300


def test_crop_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        crop_lungs(np.zeros((4, 4, 4), np.uint16), np.zeros((4, 4, 5), bool), (2, 2, 2))


def test_resample_to_one_millimetre() -> None:
    volume = np.arange(10 * 20 * 20, dtype=np.uint16).reshape(10, 20, 20)
    out = resample(volume, (5.0, 0.5, 0.5))
    assert out.shape == (50, 10, 10)
    assert out.dtype == np.uint16
    mask = np.zeros((10, 20, 20), dtype=np.uint8)
    mask[2:6, 4:12, 4:12] = 1
    out_mask = resample(mask, (5.0, 0.5, 0.5), is_mask=True)
    assert out_mask.dtype == bool
    assert out_mask.sum() == pytest.approx(mask.sum() * 5 * 0.25, rel=0.15)
    assert resample(volume, (1.0, 1.0, 1.0)) is volume
