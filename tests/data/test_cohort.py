"""Cohort save/load round trip, content hash, and one clear error per kind of bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtl_study.data.cohort import Cohort, CohortError, load_cohort, save_cohort, update_meta
from mtl_study.data.schema import MANIFEST_COLUMNS


def _manifest(n: int = 24) -> pd.DataFrame:
    """Labels shaped like the real cohort's groups (control, suspected, regular, severe)."""
    groups = [(0, 0, 0), (1, 0, 0), (1, 1, 1), (1, 1, 2)]
    rows = []
    for i in range(n):
        ct, nat, severity = groups[i % 4]
        rows.append(
            {
                "case_id": f"c{i:03d}",
                "ct": ct,
                "nat": nat,
                "severity": severity,
                "age": 30.0 + i,
                "gender": "Male" if i % 2 else "F",
                "hospital": "A" if i % 3 else "B",
            }
        )
    return pd.DataFrame(rows)


def _features(manifest: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(len(manifest), 3)), columns=["f_a", "f_b", "f_c"])
    frame.insert(0, "case_id", manifest["case_id"].to_numpy())
    return frame


def _saved(tmp_path: Path) -> Cohort:
    manifest = _manifest()
    return save_cohort(tmp_path / "cohort", manifest, _features(manifest), meta={"source": "t"})


def test_round_trip(tmp_path: Path) -> None:
    saved = _saved(tmp_path)
    loaded = load_cohort(saved.root)
    assert list(loaded.manifest.columns) == list(MANIFEST_COLUMNS)
    assert loaded.manifest["gender"].tolist()[:2] == ["F", "M"]  # normalised
    assert set(loaded.manifest["split"]) == {"train", "test"}  # default split filled in
    assert loaded.feature_names == ["f_a", "f_b", "f_c"]
    assert loaded.content_hash == saved.content_hash == loaded.meta["content_hash"]
    assert loaded.meta["source"] == "t" and loaded.meta["schema_version"] == 1
    assert loaded.image_path("c000") is None
    pd.testing.assert_frame_equal(loaded.features, saved.features)
    assert not list(saved.root.glob(".*tmp"))  # atomic writes leave no temp files


def test_content_hash_tracks_content(tmp_path: Path) -> None:
    saved = _saved(tmp_path)
    manifest = saved.manifest.copy()
    manifest.loc[0, "age"] = 99.0
    changed = save_cohort(tmp_path / "other", manifest, saved.features)
    assert changed.content_hash != saved.content_hash
    same = save_cohort(tmp_path / "again", saved.manifest, saved.features)
    assert same.content_hash == saved.content_hash


def test_paths_resolve_relative_to_the_cohort(tmp_path: Path) -> None:
    root = tmp_path / "cohort"
    (root / "images").mkdir(parents=True)
    (root / "images" / "c000.nii.gz").write_bytes(b"x")
    manifest = _manifest()
    manifest["image"] = ["images/c000.nii.gz"] + [""] * (len(manifest) - 1)
    cohort = save_cohort(root, manifest)
    assert cohort.image_path("c000") == (root / "images" / "c000.nii.gz").resolve()
    assert cohort.mask_path("c000") is None
    with pytest.raises(KeyError, match="nope"):
        cohort.image_path("nope")


def test_update_meta_keeps_tables(tmp_path: Path) -> None:
    saved = _saved(tmp_path)
    update_meta(saved.root, preprocess={"segmenter": "refined"})
    loaded = load_cohort(saved.root)
    assert loaded.meta["preprocess"] == {"segmenter": "refined"}
    assert loaded.content_hash == saved.content_hash


def _write_bad(tmp_path: Path, manifest: pd.DataFrame, features: pd.DataFrame | None) -> Path:
    """Write tables directly (bypassing save_cohort's checks), as a user's tool might."""
    root = tmp_path / "bad"
    root.mkdir()
    manifest.to_parquet(root / "manifest.parquet", index=False)
    if features is not None:
        features.to_parquet(root / "features.parquet", index=False)
    return root


def _valid(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    saved = _saved(tmp_path)
    return saved.manifest.copy(), saved.features.copy()


def _bad_manifest(kind: str, manifest: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if kind == "duplicate":
        manifest.loc[3, "case_id"] = "c001"
        return manifest, r"case 'c001': duplicate case_id"
    if kind == "missing_label":
        manifest["severity"] = manifest["severity"].astype("float64")
        manifest.loc[5, "severity"] = math.nan
        return manifest, r"case 'c005': missing or non-numeric severity label"
    if kind == "out_of_range":
        manifest.loc[6, "ct"] = 2
        return manifest, r"case 'c006': ct label 2 out of range 0\.\.1"
    if kind == "severity_range":
        manifest.loc[7, "severity"] = 3
        return manifest, r"case 'c007': severity label 3 out of range 0\.\.2"
    if kind == "gender":
        manifest.loc[2, "gender"] = "X"
        return manifest, r"case 'c002': unknown gender 'X'"
    if kind == "image":
        manifest.loc[4, "image"] = "images/missing.nii.gz"
        return manifest, r"case 'c004': image path 'images/missing\.nii\.gz' does not exist"
    if kind == "split":
        manifest.loc[0, "split"] = "validation"
        return manifest, r"case 'c000': split 'validation' is not one of train, test"
    if kind == "test_fold":
        row = manifest.index[manifest["split"] == "test"][0]
        manifest.loc[row, "fold"] = 2
        return manifest, rf"case '{manifest.loc[row, 'case_id']}': test case has fold 2"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "duplicate",
        "missing_label",
        "out_of_range",
        "severity_range",
        "gender",
        "image",
        "split",
        "test_fold",
    ],
)
def test_bad_manifest_names_file_case_problem(tmp_path: Path, kind: str) -> None:
    manifest, _ = _valid(tmp_path)
    manifest, pattern = _bad_manifest(kind, manifest)
    root = _write_bad(tmp_path, manifest, None)
    with pytest.raises(CohortError, match=rf"manifest\.parquet: {pattern}"):
        load_cohort(root)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_feature(tmp_path: Path, value: float) -> None:
    manifest, features = _valid(tmp_path)
    features.loc[3, "f_b"] = value
    root = _write_bad(tmp_path, manifest, features)
    with pytest.raises(CohortError, match=r"features\.parquet: case 'c003': feature 'f_b' is not"):
        load_cohort(root)


def test_feature_row_without_manifest_row(tmp_path: Path) -> None:
    manifest, features = _valid(tmp_path)
    features.loc[0, "case_id"] = "ghost"
    root = _write_bad(tmp_path, manifest, features)
    with pytest.raises(CohortError, match=r"case 'ghost': feature row without a manifest row"):
        load_cohort(root)


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    manifest, _ = _valid(tmp_path)
    manifest.loc[1, "gender"] = "?"
    manifest.loc[2, "nat"] = 7
    root = _write_bad(tmp_path, manifest, None)
    with pytest.raises(CohortError) as caught:
        load_cohort(root)
    message = str(caught.value)
    assert "2 problem(s)" in message
    assert "'c001': unknown gender" in message and "'c002': nat label 7" in message


def test_missing_column_and_directory(tmp_path: Path) -> None:
    manifest, _ = _valid(tmp_path)
    root = _write_bad(tmp_path, manifest.drop(columns=["hospital"]), None)
    with pytest.raises(CohortError, match=r"manifest\.parquet: missing column\(s\) hospital"):
        load_cohort(root)
    with pytest.raises(CohortError, match="does not exist"):
        load_cohort(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CohortError, match=r"manifest\.parquet: missing"):
        load_cohort(tmp_path / "empty")


def test_save_rejects_bad_input_before_writing(tmp_path: Path) -> None:
    manifest = _manifest()
    manifest.loc[0, "ct"] = 5
    with pytest.raises(CohortError, match="'c000': ct label 5"):
        save_cohort(tmp_path / "never", manifest)
    assert not (tmp_path / "never" / "manifest.parquet").exists()
