"""A cohort directory: manifest, optional features and a descriptor, validated on load.

The cohort is the contract between every stage (docs/contracts.md, section 1): loading it
checks everything a later stage would otherwise trip over, and reports all problems at once,
each naming the file, the case and what is wrong.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mtl_study.data.schema import MANIFEST_COLUMNS, TASKS, TEST_FOLD, Split

#: Version of the on-disk layout; bump when a reader of an older layout would misread it.
SCHEMA_VERSION = 1

MANIFEST_FILE = "manifest.parquet"
FEATURES_FILE = "features.parquet"
DESCRIPTOR_FILE = "cohort.yaml"

PATH_COLUMNS: tuple[str, ...] = ("image", "mask", "lesion")
GENDERS: tuple[str, ...] = ("M", "F")

#: How many problems one error message lists before summarising the rest.
_MAX_LISTED = 20


class CohortError(ValueError):
    """A cohort directory or table is invalid; the message names file, case and problem."""


@dataclass
class Cohort:
    """A loaded, validated cohort.

    Attributes:
        root: The cohort directory; relative scan paths resolve against it.
        manifest: One row per case, columns `MANIFEST_COLUMNS`.
        features: `case_id` plus one float column per feature, or None.
        meta: The parsed `cohort.yaml`.
    """

    root: Path
    manifest: pd.DataFrame
    features: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """SHA-256 of manifest and features content; identifies the data a study ran on."""
        return content_hash(self.manifest, self.features)

    @property
    def feature_names(self) -> list[str]:
        """Feature columns in stored order (empty without features)."""
        if self.features is None:
            return []
        return [c for c in self.features.columns if c != "case_id"]

    @property
    def case_ids(self) -> list[str]:
        """Case ids in manifest order."""
        return self.manifest["case_id"].tolist()

    def split_ids(self, split: Split | str) -> list[str]:
        """Case ids of one split (`train` or `test`), in manifest order."""
        return self.manifest.loc[self.manifest["split"] == str(split), "case_id"].tolist()

    def image_path(self, case_id: str) -> Path | None:
        """Resolved path of the case's scan, or None when the cohort has none for it."""
        return self._path(case_id, "image")

    def mask_path(self, case_id: str) -> Path | None:
        """Resolved path of the case's reference lung mask, or None."""
        return self._path(case_id, "mask")

    def lesion_path(self, case_id: str) -> Path | None:
        """Resolved path of the case's lesion mask, or None."""
        return self._path(case_id, "lesion")

    def _path(self, case_id: str, column: str) -> Path | None:
        rows = self.manifest.loc[self.manifest["case_id"] == str(case_id), column]
        if rows.empty:
            raise KeyError(f"{self.root / MANIFEST_FILE}: no case {case_id!r}")
        return resolve_path(self.root, rows.iloc[0])


def resolve_path(root: Path, value: object) -> Path | None:
    """Turn a manifest path cell into an absolute path (None for empty cells)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    if not text:
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() else (Path(root) / path).resolve()


def content_hash(manifest: pd.DataFrame, features: pd.DataFrame | None = None) -> str:
    """Order-sensitive SHA-256 of the cohort tables (column names and values)."""
    digest = hashlib.sha256()
    for frame in (manifest, features):
        if frame is None:
            digest.update(b"<none>")
            continue
        digest.update("\x1f".join(map(str, frame.columns)).encode())
        hashed = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False)
        digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()


def load_cohort(path: str | os.PathLike[str], check_paths: bool = True) -> Cohort:
    """Read and validate a cohort directory.

    Args:
        path: The cohort directory (or its `cohort.yaml` / `manifest.parquet`).
        check_paths: Also require every referenced scan/mask file to exist.

    Returns:
        The validated cohort with normalised dtypes.

    Raises:
        CohortError: Listing every problem found, each with file and case.
    """
    root = Path(path)
    if root.is_file():
        root = root.parent
    manifest_file = root / MANIFEST_FILE
    if not root.is_dir():
        raise CohortError(f"{root}: cohort directory does not exist")
    if not manifest_file.exists():
        raise CohortError(f"{manifest_file}: missing; {root} is not a cohort directory")
    meta = _read_descriptor(root / DESCRIPTOR_FILE)
    manifest = _read_parquet(manifest_file)
    features_file = root / FEATURES_FILE
    features = _read_parquet(features_file) if features_file.exists() else None
    manifest = validate_manifest(manifest, root=root, source=manifest_file, check_paths=check_paths)
    if features is not None:
        features = validate_features(features, manifest, source=features_file)
    return Cohort(root=root.resolve(), manifest=manifest, features=features, meta=meta)


def save_cohort(
    root: str | os.PathLike[str],
    manifest: pd.DataFrame,
    features: pd.DataFrame | None = None,
    meta: dict[str, Any] | None = None,
    check_paths: bool = True,
) -> Cohort:
    """Validate and write a cohort directory; each file is replaced atomically.

    A manifest without a `split` column (or with it empty) gets the default split
    (`assign_splits`: 70/30 stratified by nat, 5 folds, seed 0).

    Args:
        root: Directory to write (created if needed).
        manifest: One row per case; missing path columns are added empty.
        features: Optional `case_id` + feature columns.
        meta: Extra descriptor keys (name, source, preprocess, ...).
        check_paths: Require referenced scans to exist.

    Returns:
        The cohort as `load_cohort` would return it.
    """
    from mtl_study.data.splits import assign_splits

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    manifest = manifest.copy()
    for column in PATH_COLUMNS:
        if column not in manifest.columns:
            manifest[column] = ""
    for column in ("age", "gender", "hospital"):
        if column not in manifest.columns:
            manifest[column] = np.nan if column == "age" else ""
    if "split" not in manifest.columns or manifest["split"].isna().all():
        manifest = _with_default_splits(manifest, assign_splits)
    manifest = validate_manifest(
        manifest, root=root, source=root / MANIFEST_FILE, check_paths=check_paths
    )
    if features is not None:
        features = validate_features(features, manifest, source=root / FEATURES_FILE)
    descriptor = {
        "name": root.name,
        "source": "unknown",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **(meta or {}),
        "schema_version": SCHEMA_VERSION,
        "content_hash": content_hash(manifest, features),
    }
    _atomic_write(root / MANIFEST_FILE, lambda p: manifest.to_parquet(p, index=False))
    if features is not None:
        _atomic_write(root / FEATURES_FILE, lambda p: features.to_parquet(p, index=False))
    elif (root / FEATURES_FILE).exists():
        (root / FEATURES_FILE).unlink()
    _atomic_write(
        root / DESCRIPTOR_FILE,
        lambda p: Path(p).write_text(yaml.safe_dump(descriptor, sort_keys=False), encoding="utf-8"),
    )
    return Cohort(root=root.resolve(), manifest=manifest, features=features, meta=descriptor)


def _with_default_splits(manifest: pd.DataFrame, assign_splits: Any) -> pd.DataFrame:
    manifest = manifest.drop(columns=[c for c in ("split", "fold") if c in manifest.columns])
    try:
        return assign_splits(manifest)
    except ValueError as err:
        raise CohortError(f"cannot assign the default split: {err}") from err


def validate_manifest(
    manifest: pd.DataFrame,
    root: Path | None = None,
    source: str | os.PathLike[str] = MANIFEST_FILE,
    check_paths: bool = True,
) -> pd.DataFrame:
    """Check a manifest and return it with normalised dtypes and column order.

    Raises:
        CohortError: Listing every problem found (file, case, problem).
    """
    missing = [c for c in MANIFEST_COLUMNS if c not in manifest.columns]
    if missing:
        raise CohortError(f"{source}: missing column(s) {', '.join(missing)}")
    frame = manifest.loc[:, list(MANIFEST_COLUMNS)].reset_index(drop=True).copy()
    problems: list[str] = []

    ids = frame["case_id"]
    empty_id = ids.isna() | (ids.astype(str).str.strip() == "")
    problems += [f"row {i}: empty case_id" for i in np.flatnonzero(empty_id)]
    frame["case_id"] = ids.astype(str).str.strip()
    duplicated = frame["case_id"][frame["case_id"].duplicated() & ~empty_id]
    problems += [f"case {c!r}: duplicate case_id" for c in sorted(set(duplicated))]

    for task, n_classes in TASKS.items():
        values = pd.to_numeric(frame[task], errors="coerce")
        for case, raw, value in zip(frame["case_id"], frame[task], values, strict=True):
            if pd.isna(value):
                problems.append(f"case {case!r}: missing or non-numeric {task} label ({raw!r})")
            elif value not in range(n_classes):
                problems.append(
                    f"case {case!r}: {task} label {raw!r} out of range 0..{n_classes - 1}"
                )
        frame[task] = values.fillna(-1).astype("int64")

    frame["gender"] = frame["gender"].map(_normalise_gender)
    for case, raw in zip(frame["case_id"], manifest["gender"], strict=True):
        if not (pd.isna(raw) or str(raw).strip() == "") and _normalise_gender(raw) == "":
            problems.append(f"case {case!r}: unknown gender {raw!r} (expected M or F)")

    age = pd.to_numeric(frame["age"], errors="coerce")
    bad_age = (age.isna() & frame["age"].notna() & (frame["age"].astype(str).str.strip() != "")) | (
        age.notna() & ((age < 0) | ~np.isfinite(age))
    )
    problems += [
        f"case {c!r}: invalid age {a!r}"
        for c, a in zip(frame["case_id"][bad_age], frame["age"][bad_age], strict=True)
    ]
    frame["age"] = age.astype("float64")
    frame["hospital"] = frame["hospital"].fillna("").astype(str)

    problems += _check_splits(frame)

    for column in PATH_COLUMNS:
        frame[column] = frame[column].map(_path_cell)
        if check_paths and root is not None:
            for case, value in zip(frame["case_id"], frame[column], strict=True):
                path = resolve_path(root, value)
                if path is not None and not path.exists():
                    problems.append(f"case {case!r}: {column} path {value!r} does not exist")
    frame["split"] = frame["split"].astype(str)
    frame["fold"] = pd.to_numeric(frame["fold"], errors="coerce").fillna(TEST_FOLD).astype("int64")
    raise_problems(source, problems)
    return frame


def _check_splits(frame: pd.DataFrame) -> list[str]:
    problems = []
    valid = {str(s) for s in Split}
    folds = pd.to_numeric(frame["fold"], errors="coerce")
    for case, split, fold in zip(frame["case_id"], frame["split"], folds, strict=True):
        if str(split) not in valid:
            problems.append(f"case {case!r}: split {split!r} is not one of train, test")
        elif pd.isna(fold) or fold != int(fold):
            problems.append(f"case {case!r}: fold {fold!r} is not an integer")
        elif split == Split.TEST and fold != TEST_FOLD:
            problems.append(f"case {case!r}: test case has fold {int(fold)} (expected -1)")
        elif split == Split.TRAIN and fold < 0:
            problems.append(f"case {case!r}: training case has negative fold {int(fold)}")
    return problems


def validate_features(
    features: pd.DataFrame, manifest: pd.DataFrame, source: str | os.PathLike[str] = FEATURES_FILE
) -> pd.DataFrame:
    """Check a feature table against its manifest: known unique ids, finite numbers.

    Raises:
        CohortError: Listing every problem found (file, case, feature).
    """
    if "case_id" not in features.columns:
        raise CohortError(f"{source}: missing column case_id")
    frame = features.reset_index(drop=True).copy()
    frame["case_id"] = frame["case_id"].astype(str).str.strip()
    problems: list[str] = []
    duplicated = sorted(set(frame["case_id"][frame["case_id"].duplicated()]))
    problems += [f"case {c!r}: duplicate feature row" for c in duplicated]
    known = set(manifest["case_id"].astype(str))
    problems += [
        f"case {c!r}: feature row without a manifest row"
        for c in frame["case_id"]
        if c not in known
    ]
    names = [c for c in frame.columns if c != "case_id"]
    if len(set(names)) != len(names):
        problems.append("duplicate feature column names")
    values = frame[names].apply(pd.to_numeric, errors="coerce").astype("float64")
    bad = ~np.isfinite(values.to_numpy())
    for row, col in zip(*np.nonzero(bad), strict=True):
        raw = frame.iloc[row][names[col]]
        problems.append(
            f"case {frame['case_id'].iloc[row]!r}: feature {names[col]!r} is not finite ({raw!r})"
        )
    raise_problems(source, problems)
    values.insert(0, "case_id", frame["case_id"])
    return values


def raise_problems(source: str | os.PathLike[str], problems: list[str]) -> None:
    """Raise one `CohortError` listing every problem (the first `_MAX_LISTED` in full)."""
    if not problems:
        return
    listed = "\n".join(f"  {source}: {p}" for p in problems[:_MAX_LISTED])
    more = len(problems) - _MAX_LISTED
    tail = f"\n  ... and {more} more" if more > 0 else ""
    raise CohortError(f"{source}: {len(problems)} problem(s)\n{listed}{tail}")


def _normalise_gender(value: object) -> str:
    """Map M/F, male/female (any case) to `M`/`F`; anything else to ''."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = str(value).strip().lower()
    return {"m": "M", "male": "M", "f": "F", "female": "F"}.get(text, "")


def _path_cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as err:
        raise CohortError(f"{path}: unreadable parquet file ({err})") from err


def _read_descriptor(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise CohortError(f"{path}: invalid YAML ({err})") from err
    if not isinstance(data, dict):
        raise CohortError(f"{path}: expected a mapping, got {type(data).__name__}")
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise CohortError(f"{path}: schema_version {version} is not supported ({SCHEMA_VERSION})")
    return data


def _atomic_write(path: Path, write: Any) -> None:
    """Write via a temp file in the same directory, then rename over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_meta(root: str | os.PathLike[str], **entries: Any) -> dict[str, Any]:
    """Merge keys into `cohort.yaml` (e.g. `preprocess`) without touching the tables."""
    path = Path(root) / DESCRIPTOR_FILE
    data = _read_descriptor(path)
    data.update(entries)
    _atomic_write(
        path, lambda p: Path(p).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    )
    return data
