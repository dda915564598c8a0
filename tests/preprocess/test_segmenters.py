"""Segmenters: the shared contract over every registered one, and classical vs refined."""

from __future__ import annotations

import numpy as np
import pytest

from mtl_study.preprocess._registry import UnknownNameError
from mtl_study.preprocess.lungs import count_components, label_lungs, lung_litres
from mtl_study.preprocess.metrics import dice, lesion_coverage
from mtl_study.preprocess.segmenters import available, build
from tests.preprocess.phantoms import chest_phantom


@pytest.fixture(scope="module")
def phantom() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return chest_phantom((40, 72, 72), seed=3, lesions=4)


@pytest.mark.parametrize("name", available())
def test_segmenter_contract(name: str, phantom: tuple[np.ndarray, ...]) -> None:
    volume, reference, _ = phantom
    before = volume.copy()
    mask = build(name).segment(volume)
    assert mask.dtype == bool and mask.shape == volume.shape
    assert np.array_equal(volume, before), "segmenters must not modify their input"
    assert dice(mask, reference) > 0.95
    assert count_components(mask) == 2


def test_unknown_segmenter_lists_names_and_nearest_match() -> None:
    with pytest.raises(UnknownNameError, match=r"classical, refined; did you mean 'refined'"):
        build("refind")


def test_refined_covers_subpleural_lesions(phantom: tuple[np.ndarray, ...]) -> None:
    volume, reference, lesion = phantom
    classical = build("classical").segment(volume)
    refined = build("refined").segment(volume)
    assert lesion_coverage(refined, lesion) > lesion_coverage(classical, lesion) + 0.05
    assert dice(refined, reference) > dice(classical, reference)


def test_lungs_split_into_two_even_when_joined() -> None:
    mask = np.zeros((20, 30, 40), dtype=bool)
    mask[2:18, 5:25, 3:17] = True
    mask[2:18, 5:25, 23:37] = True
    mask[8:12, 12:16, 17:23] = True  # an airway bridge joins them
    assert count_components(mask) == 1
    labels = label_lungs(mask)
    assert set(np.unique(labels)) == {0, 1, 2}
    assert np.array_equal(labels > 0, mask)
    litres = lung_litres(mask)
    assert len(litres) == 2 and sum(litres) == pytest.approx(mask.sum() * 1e-6)
