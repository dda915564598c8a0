"""Per-case results under `COHORT/preprocessed/`: complete or absent, never half-written.

Layout of one case (docs/contracts.md, section 2)::

    preprocessed/<case_id>/volume.npy   uint16 (D, H, W), cropped, 0 outside the lungs
    preprocessed/<case_id>/mask.npy     bool (D, H, W), the lung mask of the same crop
    preprocessed/<case_id>/case.json    settings, timings, lung volume, features, metrics

Plain `.npy` because a data loader memory-maps it and reads a 200 x 250 x 250 crop in
milliseconds; `benchmarks/preprocess_store.py` compares it with compressed alternatives.
A case is written into a hidden temp directory that is renamed into place at the end, so a
killed run leaves either the whole case or only a temp directory that the next run removes.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

PREPROCESSED_DIR = "preprocessed"
VOLUME_FILE = "volume.npy"
MASK_FILE = "mask.npy"
CASE_FILE = "case.json"
FAILURES_FILE = "failures.csv"
SEGMENTATION_FILE = "segmentation.csv"

#: Prefix of in-progress case directories; never a valid finished case.
_TEMP_PREFIX = ".tmp-"


def preprocessed_dir(root: str | os.PathLike[str]) -> Path:
    """`COHORT/preprocessed`."""
    return Path(root) / PREPROCESSED_DIR


def case_dir(root: str | os.PathLike[str], case_id: str) -> Path:
    """Directory of one finished case (it may not exist)."""
    if not case_id or "/" in case_id or case_id.startswith(".") or case_id != case_id.strip():
        raise ValueError(f"case id {case_id!r} cannot name a directory")
    return preprocessed_dir(root) / case_id


def write_case(
    root: str | os.PathLike[str],
    case_id: str,
    volume: np.ndarray,
    mask: np.ndarray,
    info: dict[str, Any],
) -> Path:
    """Write one case atomically, replacing an older result of the same case.

    Args:
        root: Cohort directory.
        case_id: The case.
        volume: Cropped lungs-only uint16 volume.
        mask: Cropped bool lung mask.
        info: JSON-serialisable record (settings, timings, features, metrics).

    Returns:
        The final case directory.
    """
    final = case_dir(root, case_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.parent / f"{_TEMP_PREFIX}{case_id}-{uuid.uuid4().hex[:8]}"
    temp.mkdir()
    try:
        np.save(temp / VOLUME_FILE, np.ascontiguousarray(volume, dtype=np.uint16))
        np.save(temp / MASK_FILE, np.ascontiguousarray(mask, dtype=bool))
        (temp / CASE_FILE).write_text(
            json.dumps({"case_id": case_id, **info}, indent=1), encoding="utf-8"
        )
        if final.exists():
            old = final.parent / f"{_TEMP_PREFIX}old-{case_id}-{uuid.uuid4().hex[:8]}"
            os.rename(final, old)
            os.rename(temp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return final


def remove_partial(root: str | os.PathLike[str]) -> int:
    """Delete temp directories a killed run left behind; returns how many."""
    folder = preprocessed_dir(root)
    if not folder.is_dir():
        return 0
    partial = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith(_TEMP_PREFIX)]
    for path in partial:
        shutil.rmtree(path, ignore_errors=True)
    return len(partial)


def finished_cases(root: str | os.PathLike[str]) -> set[str]:
    """Ids of the cases whose preprocessing is complete."""
    folder = preprocessed_dir(root)
    if not folder.is_dir():
        return set()
    return {
        p.name
        for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / CASE_FILE).is_file()
    }


def _existing(root: str | os.PathLike[str], case_id: str, name: str) -> Path:
    path = case_dir(root, case_id) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: case {case_id!r} is not preprocessed")
    return path


def load_volume(root: str | os.PathLike[str], case_id: str, mmap: bool = False) -> np.ndarray:
    """Cropped lungs-only volume, uint16 `(D, H, W)`; `mmap=True` maps it read-only."""
    return np.load(_existing(root, case_id, VOLUME_FILE), mmap_mode="r" if mmap else None)


def load_mask(root: str | os.PathLike[str], case_id: str, mmap: bool = False) -> np.ndarray:
    """Lung mask of the crop, bool `(D, H, W)`."""
    return np.load(_existing(root, case_id, MASK_FILE), mmap_mode="r" if mmap else None)


def load_info(root: str | os.PathLike[str], case_id: str) -> dict[str, Any]:
    """The case's record: settings, timings, lung volume, features, segmentation metrics."""
    return json.loads(_existing(root, case_id, CASE_FILE).read_text(encoding="utf-8"))
