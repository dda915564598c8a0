"""Radiomics feature sets (SPEC 2.7): named, ordered columns and the pyradiomics work they need.

A feature set says which image types and feature classes pyradiomics must compute, and how
its output columns map to pyradiomics keys. Each image type gets its own extractor with only
the classes that image type needs, so the eight wavelet sub-bands (the dominant cost) run
just GLCM and GLRLM for `covid-mtl-375`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import SimpleITK as sitk

from mtl_study.preprocess._registry import Registry

#: Coiflets-1 sub-bands, in pyradiomics naming.
WAVELET_BANDS: tuple[str, ...] = ("LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH", "LLL")

#: SPEC 2.7: binWidth 25, no resampling, mask label 1; no diagnostics in the output.
#: `preCrop` filters (wavelets) only the lungs' bounding box plus padding instead of the whole
#: zero-padded crop: same values (checked against the uncropped run), half the time.
SETTINGS: dict[str, object] = {
    "binWidth": 25,
    "resampledPixelSpacing": None,
    "label": 1,
    "additionalInfo": False,
    "preCrop": True,
}

#: Which original-image class wins a name clash in the published, unprefixed names: the
#: published frames were built by dict updates, so GLSZM overwrote GLRLM (SPEC 2.7).
_UNPREFIXED_PRIORITY: tuple[str, ...] = ("glszm", "glrlm", "glcm", "firstorder")


@dataclass(frozen=True)
class FeatureSet:
    """Ordered output columns and the pyradiomics computations behind them.

    Attributes:
        name: Registry name.
        description: One line for `--help` and docs.
        plan: Image type (`Original`, `Wavelet`) -> feature classes computed on it.
        columns: Output column names in order.
        sources: pyradiomics key of each column (same order as `columns`).
    """

    name: str
    description: str
    plan: dict[str, tuple[str, ...]]
    columns: tuple[str, ...]
    sources: tuple[str, ...]


def _quiet_radiomics() -> None:
    """pyradiomics logs every extraction at INFO; keep workers' output readable."""
    logging.getLogger("radiomics").setLevel(logging.ERROR)


@cache
def _class_features(cls: str) -> tuple[str, ...]:
    """Non-deprecated feature names of one pyradiomics class."""
    _quiet_radiomics()
    from radiomics import getFeatureClasses

    names = getFeatureClasses()[cls].getFeatureNames()
    return tuple(name for name, deprecated in names.items() if not deprecated)


def published_names() -> tuple[str, ...]:
    """The 375 column names of the published COVID-MTL features, in published order."""
    text = resources.files("mtl_study.preprocess").joinpath("resources/covid_mtl_375.txt")
    return tuple(
        line.strip() for line in text.read_text(encoding="utf-8").splitlines() if line.strip()
    )


def _published_source(name: str) -> str:
    """pyradiomics key behind one published column name."""
    band, _, rest = name.partition("_")
    if band in WAVELET_BANDS and rest:
        return f"wavelet-{name}"
    for cls in _UNPREFIXED_PRIORITY:
        if name in _class_features(cls):
            return f"original_{cls}_{name}"
    raise ValueError(f"published feature {name!r} matches no original-image pyradiomics class")


def _prefixed_names() -> tuple[str, ...]:
    """The published features under unambiguous pyradiomics keys: clashes become 2 columns."""
    names = published_names()
    original = [n for n in names if n.partition("_")[0] not in WAVELET_BANDS]
    keys = [
        f"original_{cls}_{n}"
        for cls in ("firstorder", "glcm", "glrlm", "glszm")
        for n in original
        if n in _class_features(cls)
    ]
    keys += [f"wavelet-{n}" for n in names if n.partition("_")[0] in WAVELET_BANDS]
    return tuple(keys)


def _covid_mtl_375() -> FeatureSet:
    names = published_names()
    return FeatureSet(
        name="covid-mtl-375",
        description="the 375 published COVID-MTL features, published names and order",
        plan={"Original": ("firstorder", "glcm", "glrlm", "glszm"), "Wavelet": ("glcm", "glrlm")},
        columns=names,
        sources=tuple(_published_source(n) for n in names),
    )


def _covid_mtl_prefixed() -> FeatureSet:
    keys = _prefixed_names()
    return FeatureSet(
        name="covid-mtl-prefixed",
        description="the same computations with pyradiomics' full keys (378, no name clash)",
        plan={"Original": ("firstorder", "glcm", "glrlm", "glszm"), "Wavelet": ("glcm", "glrlm")},
        columns=keys,
        sources=keys,
    )


def _firstorder() -> FeatureSet:
    keys = tuple(f"original_firstorder_{n}" for n in _class_features("firstorder"))
    return FeatureSet(
        name="firstorder",
        description="original-image first-order statistics only (18, seconds per case)",
        plan={"Original": ("firstorder",)},
        columns=keys,
        sources=keys,
    )


FEATURE_SETS: Registry = Registry("feature set")
FEATURE_SETS.register("covid-mtl-375", _covid_mtl_375)
FEATURE_SETS.register("covid-mtl-prefixed", _covid_mtl_prefixed)
FEATURE_SETS.register("firstorder", _firstorder)


@cache
def get_feature_set(name: str) -> FeatureSet:
    """The feature set registered as `name` (unknown names list the valid ones)."""
    return FEATURE_SETS.get(name)()


def available() -> list[str]:
    """Registered feature-set names (CLI choices and `--help`)."""
    return FEATURE_SETS.names()


def _extractor(image_type: str, classes: tuple[str, ...]):
    """A pyradiomics extractor computing only `classes` on `image_type`."""
    _quiet_radiomics()
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    extractor = RadiomicsFeatureExtractor(**SETTINGS)
    extractor.disableAllImageTypes()
    extractor.enableImageTypeByName(image_type)
    extractor.disableAllFeatures()
    for cls in classes:
        extractor.enableFeatureClassByName(cls)
    return extractor


def extract_features(
    volume: np.ndarray, feature_set: str | FeatureSet, mask: np.ndarray | None = None
) -> dict[str, float]:
    """Features of one lungs-only volume, keyed and ordered by the set's columns.

    Args:
        volume: `(D, H, W)` uint16 shifted HU at 1 mm, 0 outside the lungs.
        feature_set: Registry name or a `FeatureSet`.
        mask: Region of interest; default `volume > 0` (SPEC 2.7).

    Returns:
        Column -> value, in `feature_set.columns` order.

    Raises:
        ValueError: The region is empty or pyradiomics did not produce a needed key.
    """
    fs = get_feature_set(feature_set) if isinstance(feature_set, str) else feature_set
    roi = (volume > 0) if mask is None else mask.astype(bool)
    if not roi.any():
        raise ValueError("empty region of interest: the lung mask has no voxel")
    image = sitk.GetImageFromArray(volume.astype(np.float32))
    label = sitk.GetImageFromArray(roi.astype(np.uint8))
    raw: dict[str, object] = {}
    for image_type, classes in fs.plan.items():
        raw.update(_extractor(image_type, classes).execute(image, label, label=1))
    missing = [s for s in fs.sources if s not in raw]
    if missing:
        raise ValueError(f"feature set {fs.name!r}: pyradiomics gave no {missing[:3]} ...")
    return {c: float(raw[s]) for c, s in zip(fs.columns, fs.sources, strict=True)}
