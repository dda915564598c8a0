"""Per-case store: atomic writes, finished cases, loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mtl_study.preprocess import store


def test_write_and_load_a_case(tmp_path: Path) -> None:
    volume = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4)
    mask = volume > 5
    store.write_case(tmp_path, "c1", volume, mask, {"settings": {"crop_shape": [2, 3, 4]}})
    assert store.finished_cases(tmp_path) == {"c1"}
    assert np.array_equal(store.load_volume(tmp_path, "c1"), volume)
    mapped = store.load_volume(tmp_path, "c1", mmap=True)
    assert isinstance(mapped, np.memmap) and mapped.dtype == np.uint16
    assert np.array_equal(store.load_mask(tmp_path, "c1"), mask)
    assert store.load_info(tmp_path, "c1")["settings"]["crop_shape"] == [2, 3, 4]


def test_rewrite_replaces_and_partial_dirs_do_not_count(tmp_path: Path) -> None:
    volume = np.ones((2, 2, 2), dtype=np.uint16)
    store.write_case(tmp_path, "c1", volume, volume > 0, {"v": 1})
    store.write_case(tmp_path, "c1", volume * 2, volume > 0, {"v": 2})
    assert store.load_info(tmp_path, "c1")["v"] == 2
    partial = store.preprocessed_dir(tmp_path) / ".tmp-c2-deadbeef"
    partial.mkdir()
    (partial / store.VOLUME_FILE).write_bytes(b"half")
    assert store.finished_cases(tmp_path) == {"c1"}
    assert store.remove_partial(tmp_path) == 1
    assert not partial.exists()
    assert sorted(p.name for p in store.preprocessed_dir(tmp_path).iterdir()) == ["c1"]


def test_missing_case_and_bad_ids(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="'nope' is not preprocessed"):
        store.load_volume(tmp_path, "nope")
    with pytest.raises(ValueError, match="cannot name a directory"):
        store.case_dir(tmp_path, "../escape")
