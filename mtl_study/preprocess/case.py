"""One case through every stage, timed: read, resample, segment, refine, evaluate, crop, ...

`evaluate` scores both methods against a reference mask (when the case has one) and measures
the litres per lung.

Runs inside a Dask worker. Nothing here raises for a bad case: the result names the stage
that failed and the error, so one corrupt scan never stops a cohort.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mtl_study.io import read_mask, read_scan
from mtl_study.preprocess import store
from mtl_study.preprocess.crop import DEFAULT_CROP_SHAPE, crop_lungs
from mtl_study.preprocess.lungs import lung_litres
from mtl_study.preprocess.metrics import segmentation_metrics
from mtl_study.preprocess.radiomics import extract_features
from mtl_study.preprocess.resample import resample
from mtl_study.preprocess.segmenters import RefinedSegmenter, build
from mtl_study.preprocess.segmenters.classical import classical_mask

#: Stage names in execution order (progress bar, timings, failures.csv).
STAGES: tuple[str, ...] = (
    "read",
    "resample",
    "segment",
    "refine",
    "evaluate",
    "crop",
    "features",
    "write",
)

#: Methods compared in `segmentation.csv` for cases with a reference mask.
COMPARED_METHODS: tuple[str, ...] = ("classical", "refined")


@dataclass(frozen=True)
class Settings:
    """What a preprocessed case depends on; a change makes finished cases stale."""

    segmenter: str = "refined"
    feature_set: str | None = "covid-mtl-375"
    crop_shape: tuple[int, int, int] = DEFAULT_CROP_SHAPE

    def as_dict(self) -> dict[str, Any]:
        """JSON/YAML form (crop shape as a list)."""
        return {**asdict(self), "crop_shape": list(self.crop_shape)}


@dataclass(frozen=True)
class CaseInput:
    """Paths of one manifest row (absolute; None when absent)."""

    case_id: str
    image: Path | None
    mask: Path | None = None
    lesion: Path | None = None


@dataclass
class CaseResult:
    """Outcome of one case: `stage`/`error` are set when it failed."""

    case_id: str
    ok: bool = True
    stage: str = ""
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)


class StageError(Exception):
    """A stage failed; carries the stage name for failures.csv."""

    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.stage = stage


@contextmanager
def _stage(name: str, timings: dict[str, float], report: Callable[[str], None]) -> Iterator[None]:
    report(name)
    start = time.perf_counter()
    try:
        yield
    except StageError:
        raise
    except Exception as err:
        raise StageError(name, err) from err
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start


def process_case(
    root: str | Path,
    case: CaseInput,
    settings: Settings,
    report: Callable[[str], None] | None = None,
) -> CaseResult:
    """Run every stage for one case and write it to `root/preprocessed/<case_id>/`.

    Args:
        root: Cohort directory.
        case: The case's scan and optional reference/lesion masks.
        settings: Segmenter, feature set and crop shape.
        report: Called with each stage name as it starts (progress display).

    Returns:
        The result; `ok=False` with the failing stage and error instead of raising.
    """
    report = report or (lambda _stage_name: None)
    result = CaseResult(case.case_id)
    timings = result.timings
    try:
        with _stage("read", timings, report):
            if case.image is None:
                raise FileNotFoundError(f"case {case.case_id!r} has no image in the manifest")
            scan = read_scan(case.image)
            reference = read_mask(case.mask) if case.mask else None
            lesion = read_mask(case.lesion) if case.lesion else None
        with _stage("resample", timings, report):
            volume = resample(scan.array, scan.spacing)
            ref = _to_grid(reference, volume.shape, case, "mask")
            les = _to_grid(lesion, volume.shape, case, "lesion")
            del scan
        with _stage("segment", timings, report):
            masks = {"classical": classical_mask(volume)}
            if settings.segmenter not in ("classical", "refined"):
                masks[settings.segmenter] = build(settings.segmenter).segment(volume)
        with _stage("refine", timings, report):
            if settings.segmenter == "refined" or ref is not None:
                masks["refined"] = RefinedSegmenter().refine(volume, masks["classical"])
        mask = masks[settings.segmenter]
        if not mask.any():
            stage = "refine" if settings.segmenter == "refined" else "segment"
            raise StageError(stage, ValueError("no lung found"))
        metrics = []
        with _stage("evaluate", timings, report):
            if ref is not None:
                for method in COMPARED_METHODS:
                    scores = segmentation_metrics(masks[method], ref, les)
                    metrics.append({"method": method, **scores})
            litres = lung_litres(mask)
        with _stage("crop", timings, report):
            cropped, cropped_mask = crop_lungs(volume, mask, settings.crop_shape)
            del volume, masks
        features: dict[str, float] = {}
        with _stage("features", timings, report):
            if settings.feature_set is not None:
                features = extract_features(cropped, settings.feature_set)
                bad = [name for name, value in features.items() if not math.isfinite(value)]
                if bad:
                    raise ValueError(f"non-finite features {bad[:5]} ({len(bad)} in all)")
        with _stage("write", timings, report):
            info = {
                "settings": settings.as_dict(),
                "timings": timings,
                "lung_litres": litres,
                "segmentation": metrics,
                "features": features,
            }
            store.write_case(root, case.case_id, cropped, cropped_mask, _json_safe(info))
    except StageError as err:
        result.ok, result.stage, result.error = False, err.stage, str(err)
        result.error += "\n" + "".join(traceback.format_exception(err.__cause__ or err)[-3:])
    return result


def _to_grid(
    mask: tuple[np.ndarray, tuple[float, float, float]] | None,
    shape: tuple[int, ...],
    case: CaseInput,
    column: str,
) -> np.ndarray | None:
    """A reference mask resampled onto the 1 mm grid of the scan."""
    if mask is None:
        return None
    array, spacing = mask
    grid = resample(array, spacing, is_mask=True)
    if grid.shape != shape:
        raise ValueError(
            f"case {case.case_id!r}: {column} grid {grid.shape} differs from the scan {shape}"
        )
    return grid


def _json_safe(value: Any) -> Any:
    """NaN -> None (JSON has no NaN), recursively."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
