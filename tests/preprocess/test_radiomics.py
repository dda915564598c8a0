"""Feature sets: the published 375 names and order, the prefixed set, real extraction."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest

from mtl_study.preprocess._registry import UnknownNameError
from mtl_study.preprocess.radiomics import (
    WAVELET_BANDS,
    available,
    extract_features,
    get_feature_set,
    published_names,
)


def test_published_set_has_375_unique_names_in_published_order() -> None:
    fs = get_feature_set("covid-mtl-375")
    assert len(fs.columns) == 375 == len(set(fs.columns))
    assert fs.columns == published_names()
    assert fs.columns[:3] == ("10Percentile", "90Percentile", "Energy")
    assert fs.columns[-1] == "LLL_glrlm_ShortRunLowGrayLevelEmphasis"


def test_published_names_equal_the_shared_header(covid_mtl_data: Path) -> None:
    with gzip.open(covid_mtl_data / "features.csv.gz", "rt") as handle:
        header = handle.readline().strip().split(",")
    assert header[0] == "PID"
    assert tuple(header[1:]) == get_feature_set("covid-mtl-375").columns


def test_name_clashes_resolve_to_glszm_as_published() -> None:
    fs = get_feature_set("covid-mtl-375")
    source = dict(zip(fs.columns, fs.sources, strict=True))
    for name in ("GrayLevelNonUniformity", "GrayLevelNonUniformityNormalized", "GrayLevelVariance"):
        assert source[name] == f"original_glszm_{name}"
    assert source["RunEntropy"] == "original_glrlm_RunEntropy"
    assert source["HLL_glcm_Contrast"] == "wavelet-HLL_glcm_Contrast"
    assert fs.plan == {
        "Original": ("firstorder", "glcm", "glrlm", "glszm"),
        "Wavelet": ("glcm", "glrlm"),
    }


def test_prefixed_set_keeps_both_sides_of_each_clash() -> None:
    fs = get_feature_set("covid-mtl-prefixed")
    assert len(fs.columns) == 378 == len(set(fs.columns))
    assert "original_glrlm_GrayLevelVariance" in fs.columns
    assert "original_glszm_GrayLevelVariance" in fs.columns
    assert all(c.startswith(("original_", "wavelet-")) for c in fs.columns)
    wavelet = {c.split("_")[0].removeprefix("wavelet-") for c in fs.columns if "wavelet" in c}
    assert wavelet == set(WAVELET_BANDS)


def test_unknown_feature_set() -> None:
    assert {"covid-mtl-375", "covid-mtl-prefixed", "firstorder"} <= set(available())
    with pytest.raises(UnknownNameError, match="did you mean 'firstorder'"):
        get_feature_set("firstorde")


@pytest.fixture(scope="module")
def lung_crop() -> np.ndarray:
    rng = np.random.default_rng(0)
    volume = np.zeros((24, 32, 32), dtype=np.uint16)
    volume[4:20, 6:26, 4:14] = rng.integers(100, 400, size=(16, 20, 10))
    volume[4:20, 6:26, 18:28] = rng.integers(100, 900, size=(16, 20, 10))
    return volume


def test_published_extraction_gives_375_finite_values(lung_crop: np.ndarray) -> None:
    features = extract_features(lung_crop, "covid-mtl-375")
    assert list(features) == list(get_feature_set("covid-mtl-375").columns)
    assert all(math.isfinite(v) for v in features.values())
    prefixed = extract_features(lung_crop, "covid-mtl-prefixed")
    assert features["GrayLevelVariance"] == prefixed["original_glszm_GrayLevelVariance"]
    assert features["LLH_glcm_Contrast"] == prefixed["wavelet-LLH_glcm_Contrast"]


def test_firstorder_statistics_match_numpy(lung_crop: np.ndarray) -> None:
    features = extract_features(lung_crop, "firstorder")
    roi = lung_crop[lung_crop > 0].astype(float)
    assert features["original_firstorder_Mean"] == pytest.approx(roi.mean())
    assert features["original_firstorder_Maximum"] == roi.max()


def test_empty_region_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty region"):
        extract_features(np.zeros((4, 4, 4), np.uint16), "firstorder")
