"""Turn outside data into cohort directories: the published COVID-MTL cohort, a user's scans.

Both importers check everything first and report every problem in one error, so a user
fixes a labels file in one pass rather than one failed run per bad row.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from mtl_study.data.cohort import Cohort, CohortError, raise_problems, save_cohort
from mtl_study.data.schema import TASKS

#: Columns of the published labels table, mapped to manifest columns.
COVID_MTL_COLUMNS: dict[str, str] = {
    "PID": "case_id",
    "COVIDCT": "ct",
    "COVIDNC": "nat",
    "COVIDSeverity": "severity",
    "Age": "age",
    "Gender": "gender",
    "Hospital": "hospital",
}

#: Morbidity of the authors' Patients.xlsx -> severity class.
MORBIDITY_SEVERITY: dict[str, int] = {
    "control": 0,
    "suspected": 0,
    "mild": 1,
    "regular": 1,
    "severe": 2,
    "critically ill": 2,
}

#: Accepted spellings of label columns in a user's labels file.
LABEL_ALIASES: dict[str, tuple[str, ...]] = {
    "case_id": ("case_id", "pid", "patient_id", "id"),
    "image": ("image", "scan", "path"),
    "mask": ("mask", "lung_mask"),
    "lesion": ("lesion", "lesion_mask"),
    "ct": ("ct", "covidct"),
    "nat": ("nat", "covidnc"),
    "severity": ("severity", "covidseverity"),
    "age": ("age",),
    "gender": ("gender", "sex"),
    "hospital": ("hospital", "site"),
    "split": ("split",),
    "fold": ("fold",),
}


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV (optionally gzipped), Excel or Parquet table, naming the file on failure."""
    path = Path(path)
    if not path.exists():
        raise CohortError(f"{path}: no such file")
    name = path.name.lower()
    try:
        if name.endswith((".xlsx", ".xls")):
            return pd.read_excel(path)
        if name.endswith(".parquet"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except Exception as err:
        raise CohortError(f"{path}: unreadable table ({err})") from err


def covid_mtl_manifest(labels: pd.DataFrame, source: str | os.PathLike[str]) -> pd.DataFrame:
    """Manifest rows from the published labels table or the authors' Patients.xlsx layout."""
    if all(c in labels.columns for c in ("COVIDCT", "COVIDNC", "COVIDSeverity")):
        frame = labels.copy()
    else:
        frame = _from_patients_layout(labels, source)
    if "PID" not in frame.columns:
        if "Patient" not in frame.columns:
            raise CohortError(f"{source}: needs a PID or a Patient column")
        frame["PID"] = frame["Patient"].astype(str).str.extract(r"(\d+)")[0]
    missing = [c for c in COVID_MTL_COLUMNS if c not in frame.columns]
    if missing:
        raise CohortError(f"{source}: missing column(s) {', '.join(missing)}")
    manifest = frame[list(COVID_MTL_COLUMNS)].rename(columns=COVID_MTL_COLUMNS)
    manifest["case_id"] = manifest["case_id"].map(_case_id)
    return manifest


def _from_patients_layout(labels: pd.DataFrame, source: str | os.PathLike[str]) -> pd.DataFrame:
    needed = ("Hospital", "Age", "Gender", "SARS-CoV-2 nucleic acids", "CT", "Morbidity")
    missing = [c for c in needed if c not in labels.columns]
    if missing:
        raise CohortError(
            f"{source}: neither the published layout (COVIDCT, COVIDNC, COVIDSeverity) nor "
            f"the authors' Patients.xlsx layout; missing {', '.join(missing)}"
        )
    frame = labels.copy()
    problems: list[str] = []
    case = frame.get("PID", frame.get("Patient", pd.Series(range(len(frame))))).astype(str)
    for column, target in (("SARS-CoV-2 nucleic acids", "COVIDNC"), ("CT", "COVIDCT")):
        text = frame[column].astype(str).str.strip().str.lower()
        frame[target] = text.map({"positive": 1, "negative": 0})
        bad = frame[target].isna()
        for c, raw in zip(case[bad], frame[column][bad], strict=True):
            problems.append(f"case {c!r}: {column} {raw!r} is neither Positive nor Negative")
    morbidity = frame["Morbidity"].astype(str).str.strip().str.lower()
    frame["COVIDSeverity"] = morbidity.map(MORBIDITY_SEVERITY)
    unknown = frame["COVIDSeverity"].isna()
    for c, raw in zip(case[unknown], frame["Morbidity"][unknown], strict=True):
        problems.append(
            f"case {c!r}: Morbidity {raw!r} is not one of {', '.join(MORBIDITY_SEVERITY)}"
        )
    raise_problems(source, problems)
    return frame


def import_covid_mtl(
    features: str | os.PathLike[str],
    labels: str | os.PathLike[str],
    out: str | os.PathLike[str],
    test_size: float = 0.3,
    n_folds: int = 5,
    seed: int = 0,
    name: str | None = None,
) -> Cohort:
    """Import the published COVID-MTL feature cohort into a cohort directory.

    Args:
        features: `features.csv[.gz]`: PID plus the 375 published features.
        labels: `labels.csv` (COVIDCT, COVIDNC, COVIDSeverity, ...) or the authors'
            Patients.xlsx layout.
        out: Cohort directory to write.
        test_size, n_folds, seed: The split (`assign_splits`), stratified by nat.
        name: Cohort name (default: the directory name).

    Raises:
        CohortError: Unreadable tables, missing columns, or invalid rows (all listed).
    """
    from mtl_study.data.splits import assign_splits

    manifest = covid_mtl_manifest(read_table(labels), labels)
    table = read_table(features)
    id_column = next((c for c in ("PID", "case_id") if c in table.columns), None)
    if id_column is None:
        raise CohortError(f"{features}: needs a PID (or case_id) column")
    table = table.rename(columns={id_column: "case_id"})
    table["case_id"] = table["case_id"].map(_case_id)
    try:
        manifest = assign_splits(manifest, test_size=test_size, n_folds=n_folds, seed=seed)
    except (ValueError, TypeError) as err:
        raise CohortError(f"{labels}: cannot split the cohort ({err})") from err
    meta = {
        "name": name or Path(out).name,
        "source": "covid-mtl",
        "imported_from": {"features": str(features), "labels": str(labels)},
        "split": {"test_size": test_size, "stratify": "nat", "n_folds": n_folds, "seed": seed},
    }
    return save_cohort(out, manifest, features=table, meta=meta)


def import_scans(
    labels: str | os.PathLike[str],
    images_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    copy: bool = False,
    test_size: float = 0.3,
    n_folds: int = 5,
    seed: int = 0,
    workers: int = 4,
    name: str | None = None,
) -> Cohort:
    """Make a cohort from a labels table and a folder of scans.

    Every scan is opened once (in `workers` threads) to prove it is readable; missing files
    and unreadable scans are reported together.

    Args:
        labels: Table with, per case, `case_id`, `image` (a file or DICOM series folder,
            relative to `images_dir`), labels `ct`, `nat`, `severity`; optional `mask`,
            `lesion`, `age`, `gender`, `hospital`, `split`, `fold`.
        images_dir: Where relative scan paths start.
        out: Cohort directory to write.
        copy: Copy scans into `out/images/` (and masks into `out/masks/`...) instead of
            referencing them by absolute path.
        test_size, n_folds, seed: The split when the table has none.
        workers: Threads reading scans.
        name: Cohort name (default: the directory name).

    Raises:
        CohortError: Every missing or unreadable file, and every invalid row, in one message.
    """
    from mtl_study.data.splits import assign_splits
    from mtl_study.io.readers import read_mask, read_scan

    frame = _canonical_columns(read_table(labels), labels)
    frame["case_id"] = frame["case_id"].map(_case_id)
    images_dir = Path(images_dir)
    out = Path(out)
    problems: list[str] = []
    resolved: dict[str, list[Path | None]] = {}
    for column in ("image", "mask", "lesion"):
        if column not in frame.columns:
            frame[column] = ""
        paths = []
        for case, value in zip(frame["case_id"], frame[column], strict=True):
            text = "" if pd.isna(value) else str(value).strip()
            if not text:
                if column == "image":
                    problems.append(f"case {case!r}: no image given")
                paths.append(None)
                continue
            path = Path(text).expanduser()
            path = (path if path.is_absolute() else images_dir / path).resolve()
            if not path.exists():
                problems.append(f"case {case!r}: {column} {path} does not exist")
                path = None
            paths.append(path)
        resolved[column] = paths

    def check(item: tuple[str, str, Path]) -> str | None:
        case, column, path = item
        try:
            read_scan(path) if column == "image" else read_mask(path)
        except Exception as err:
            return f"case {case!r}: {column} unreadable: {err}"
        return None

    items = [
        (case, column, path)
        for column, paths in resolved.items()
        for case, path in zip(frame["case_id"], paths, strict=True)
        if path is not None
    ]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        problems += [p for p in pool.map(check, items) if p]
    raise_problems(labels, problems)

    for column, paths in resolved.items():
        frame[column] = [
            _place(p, out, column, c, copy) for c, p in zip(frame["case_id"], paths, strict=True)
        ]
    if "split" not in frame.columns or frame["split"].isna().all():
        try:
            frame = assign_splits(
                frame.drop(columns=["split", "fold"], errors="ignore"),
                test_size=test_size,
                n_folds=n_folds,
                seed=seed,
            )
        except (ValueError, TypeError) as err:
            raise CohortError(f"{labels}: cannot split the cohort ({err})") from err
    meta: dict[str, Any] = {
        "name": name or out.name,
        "source": "scans",
        "imported_from": {"labels": str(labels), "images_dir": str(images_dir.resolve())},
        "copied": copy,
    }
    return save_cohort(out, frame, meta=meta)


def _canonical_columns(frame: pd.DataFrame, source: str | os.PathLike[str]) -> pd.DataFrame:
    """Rename accepted aliases (case-insensitive) to manifest names; require the labels."""
    lower = {str(c).strip().lower(): c for c in frame.columns}
    renames = {}
    for target, aliases in LABEL_ALIASES.items():
        found = next((lower[a] for a in aliases if a in lower), None)
        if found is not None:
            renames[found] = target
    frame = frame.rename(columns=renames)
    required = ("case_id", "image", *TASKS)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CohortError(f"{source}: missing column(s) {', '.join(missing)}")
    return frame


def _place(path: Path | None, out: Path, column: str, case: str, copy: bool) -> str:
    """The manifest cell for a scan: an absolute path, or a relative one after copying."""
    if path is None:
        return ""
    if not copy:
        return str(path)
    folder = {"image": "images", "mask": "masks", "lesion": "lesions"}[column]
    suffix = "".join(path.suffixes) if path.is_file() else ""
    target = out / folder / f"{case}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        shutil.copytree(path, target, dirs_exist_ok=True)
    else:
        shutil.copy2(path, target)
    return str(target.relative_to(out))


def _case_id(value: object) -> str:
    """Case ids as strings; integral floats (pandas reads `1` as `1.0` beside NaNs) lose `.0`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if pd.isna(value) else str(value).strip()
