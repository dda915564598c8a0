"""Importers: the published COVID-MTL cohort (CSV or Patients.xlsx) and a user's own scans."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtl_study.data.cohort import CohortError, load_cohort
from mtl_study.data.importers import import_covid_mtl, import_scans
from mtl_study.io import (
    Scan,
    read_scan,
    to_shifted_hu,
    write_covid_mtl_volume,
    write_dicom_series,
    write_scan,
)

PATIENTS_COLUMNS = ["Hospital", "Patient", "Age", "Gender", "SARS-CoV-2 nucleic acids", "CT"]


def test_real_cohort_counts(covid_mtl_data: Path, tmp_path: Path) -> None:
    cohort = import_covid_mtl(
        covid_mtl_data / "features.csv.gz", covid_mtl_data / "labels.csv", tmp_path / "real"
    )
    manifest = load_cohort(cohort.root).manifest
    assert len(manifest) == 1329
    assert manifest["ct"].value_counts().to_dict() == {1: 998, 0: 331}
    assert manifest["nat"].value_counts().to_dict() == {1: 761, 0: 568}
    assert manifest["severity"].value_counts().sort_index().tolist() == [568, 562, 199]
    assert len(cohort.feature_names) == 375
    assert cohort.feature_names[:2] == ["10Percentile", "90Percentile"]
    assert "HLL_glcm_Contrast" in cohort.feature_names
    assert (manifest["split"] == "test").sum() == 399  # the paper's 930 / 399
    assert set(manifest["gender"]) == {"M", "F"}
    assert cohort.meta["source"] == "covid-mtl"


def _patients_xlsx(folder: Path, rows: int = 40, morbidity: str | None = None) -> Path:
    rng = np.random.default_rng(0)
    groups = [("Negative", "Negative", "Control"), ("Negative", "Positive", "Suspected"),
              ("Positive", "Positive", "Regular"), ("Positive", "Positive", "Critically ill"),
              ("Positive", "Negative", "Mild"), ("Positive", "Positive", "Severe")]  # fmt: skip
    records = []
    for i in range(rows):
        nat, ct, morb = groups[i % len(groups)]
        records.append(
            {
                "Hospital": "HUST-Union Hospital",
                "Patient": f"Patient {i + 1}",
                "Age": int(rng.integers(20, 90)),
                "Gender": "Male" if i % 2 else "Female",
                "SARS-CoV-2 nucleic acids": nat,
                "CT": ct,
                "Morbidity": morbidity if (morbidity and i == 3) else morb,
                "Mortality": "Cured",
            }
        )
    path = folder / "Patients.xlsx"
    pd.DataFrame(records).to_excel(path, index=False)
    return path


def _features_csv(folder: Path, ids: list[int]) -> Path:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(len(ids), 4)), columns=["Energy", "Entropy", "A", "B"])
    frame.insert(0, "PID", ids)
    path = folder / "features.csv.gz"
    frame.to_csv(path, index=False)
    return path


def test_patients_xlsx_layout(tmp_path: Path) -> None:
    labels = _patients_xlsx(tmp_path)
    features = _features_csv(tmp_path, list(range(1, 41)))
    cohort = import_covid_mtl(features, labels, tmp_path / "out", n_folds=3)
    manifest = cohort.manifest.set_index("case_id")
    # Patient 4 is "Critically ill", Patient 5 "Mild" (NAT positive, CT negative)
    assert manifest.loc["4", ["ct", "nat", "severity"]].tolist() == [1, 1, 2]
    assert manifest.loc["5", ["ct", "nat", "severity"]].tolist() == [0, 1, 1]
    assert manifest.loc["2", ["ct", "nat", "severity"]].tolist() == [1, 0, 0]
    assert cohort.feature_names == ["Energy", "Entropy", "A", "B"]


def test_bad_labels_are_listed_together(tmp_path: Path) -> None:
    labels = _patients_xlsx(tmp_path, morbidity="Unwell")
    features = _features_csv(tmp_path, [*range(1, 41), 999])
    pattern = r"Patients\.xlsx: case 'Patient 4': Morbidity 'Unwell'"
    with pytest.raises(CohortError, match=pattern):
        import_covid_mtl(features, labels, tmp_path / "out", n_folds=3)
    good = _patients_xlsx(tmp_path)
    with pytest.raises(CohortError, match=r"case '999': feature row without a manifest row"):
        import_covid_mtl(features, good, tmp_path / "out", n_folds=3)
    with pytest.raises(CohortError, match=r"neither the published layout .* nor the authors'"):
        import_covid_mtl(features, _features_csv(tmp_path, [1]), tmp_path / "out")


def _scan(seed: int) -> Scan:
    rng = np.random.default_rng(seed)
    hu = rng.normal(-800, 50, size=(6, 16, 16))
    hu[:, :2] = -1000
    return Scan(to_shifted_hu(hu), spacing=(2.0, 0.8, 0.8))


def _labels(folder: Path, images: list[str]) -> Path:
    n = len(images)
    frame = pd.DataFrame(
        {
            "PatientID": [f"u{i}" for i in range(n)],
            "scan": images,
            "COVIDCT": [i % 2 for i in range(n)],
            "nat": [(i // 2) % 2 for i in range(n)],
            "severity": [((i // 2) % 2) * (1 + i % 2) for i in range(n)],
            "Sex": ["male", "female"] * (n // 2),
        }
    )
    frame = frame.rename(columns={"PatientID": "case_id"})
    path = folder / "labels.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def scans_dir(tmp_path: Path) -> tuple[Path, list[str]]:
    """Twelve readable scans in four formats, one of them a DICOM series folder."""
    images = tmp_path / "images"
    names = []
    for i in range(12):
        kind = i % 4
        if kind == 0:
            names.append(f"s{i}.nii.gz")
            write_scan(images / names[-1], _scan(i))
        elif kind == 1:
            names.append(f"s{i}.nrrd")
            write_scan(images / names[-1], _scan(i))
        elif kind == 2:
            names.append(f"series{i}")
            write_dicom_series(images / names[-1], _scan(i))
        else:
            names.append(f"s{i}.dcm")
            write_covid_mtl_volume(images / names[-1], _scan(i))
    return images, names


def test_import_scans_references_every_format(tmp_path: Path, scans_dir: tuple) -> None:
    images, names = scans_dir
    cohort = import_scans(_labels(tmp_path, names), images, tmp_path / "cohort", n_folds=2)
    assert len(cohort.manifest) == 12
    assert cohort.meta["source"] == "scans"
    for case, name in zip(cohort.case_ids, names, strict=True):
        path = cohort.image_path(case)
        assert path == (images / name).resolve()
        expected = _scan(int(case[1:])).array
        np.testing.assert_array_equal(read_scan(path).array, expected)
    assert set(cohort.manifest["gender"]) == {"M", "F"}
    assert not (tmp_path / "cohort" / "images").exists()  # referenced, not copied


def test_import_scans_copy(tmp_path: Path, scans_dir: tuple) -> None:
    images, names = scans_dir
    cohort = import_scans(
        _labels(tmp_path, names), images, tmp_path / "cohort", copy=True, n_folds=2
    )
    assert (tmp_path / "cohort" / "images" / "u0.nii.gz").exists()
    assert (tmp_path / "cohort" / "images" / "u2").is_dir()  # DICOM series folder copied
    assert cohort.manifest.loc[0, "image"] == "images/u0.nii.gz"
    moved = load_cohort(tmp_path / "cohort")
    assert read_scan(moved.image_path("u2")).shape == (6, 16, 16)


def test_import_scans_lists_all_problems_at_once(tmp_path: Path, scans_dir: tuple) -> None:
    images, names = scans_dir
    (images / "broken.mha").write_bytes(b"not an image")
    names = [*names[:10], "absent.nii.gz", "broken.mha"]
    with pytest.raises(CohortError) as caught:
        import_scans(_labels(tmp_path, names), images, tmp_path / "cohort", n_folds=2)
    message = str(caught.value)
    assert "2 problem(s)" in message
    assert re.search(r"case 'u10': image .*absent\.nii\.gz does not exist", message)
    assert re.search(r"case 'u11': image unreadable: .*broken\.mha", message)
    assert not (tmp_path / "cohort" / "manifest.parquet").exists()
