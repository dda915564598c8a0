"""Read and write CT scans: DICOM series, NIfTI, NRRD, MHA (SimpleITK) and COVID-MTL volumes."""

from __future__ import annotations

import gzip
import os
import warnings
import zlib
from enum import StrEnum
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from mtl_study.io.covid_mtl import is_covid_mtl_volume, read_covid_mtl_volume
from mtl_study.io.scan import Scan, ScanReadError, clip_shifted, to_shifted_hu

#: File endings SimpleITK reads directly.
SITK_SUFFIXES: tuple[str, ...] = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")


class Intensity(StrEnum):
    """How stored values relate to HU: `auto` treats non-negative volumes as already shifted."""

    AUTO = "auto"
    HU = "hu"
    SHIFTED = "shifted"


def read_scan(path: str | os.PathLike[str], intensity: Intensity | str = Intensity.AUTO) -> Scan:
    """Read a CT scan into shifted HU with its geometry in `(z, y, x)` order.

    Args:
        path: A DICOM series folder, a NIfTI/NRRD/MHA file, a single DICOM file or a
            COVID-MTL compressed volume.
        intensity: `hu` (values are HU), `shifted` (already HU + 1024), or `auto`: a volume
            with any negative value is HU (air is about -1000), otherwise it is shifted.

    Raises:
        ScanReadError: Missing, corrupt, truncated or unsupported files, naming the path.
    """
    path = Path(path)
    mode = Intensity(intensity)
    if not path.exists():
        raise ScanReadError(f"{path}: no such file or directory")
    if path.is_dir():
        image = _read_dicom_series(path)
    elif not path.name.lower().endswith(SITK_SUFFIXES) and is_covid_mtl_volume(path):
        return read_covid_mtl_volume(path)
    else:
        image = _read_sitk(path)
    return _to_scan(image, mode, path)


def read_mask(path: str | os.PathLike[str]) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Read a label/mask volume as `uint8` `(D, H, W)` (non-zero -> 1) with its spacing."""
    image = _read_sitk(Path(path))
    array = sitk.GetArrayFromImage(image)
    return (array != 0).astype(np.uint8), tuple(float(s) for s in reversed(image.GetSpacing()))


def write_scan(path: str | os.PathLike[str], scan: Scan, as_hu: bool = True) -> Path:
    """Write a scan with SimpleITK (format from the suffix, e.g. `.nii.gz`).

    Args:
        path: Output file.
        scan: The volume (shifted HU) and geometry.
        as_hu: Store `int16` HU (what other tools expect) rather than the shifted `uint16`.
    """
    array = scan.hu if as_hu else np.asarray(scan.array, dtype=np.uint16)
    return _write_sitk(path, array, scan)


def write_mask(path: str | os.PathLike[str], mask: np.ndarray, like: Scan) -> Path:
    """Write a binary mask as `uint8` with the geometry of `like`."""
    return _write_sitk(path, (np.asarray(mask) != 0).astype(np.uint8), like)


def _write_sitk(path: str | os.PathLike[str], array: np.ndarray, geometry: Scan) -> Path:
    path = Path(path)
    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    image.SetSpacing(tuple(float(s) for s in reversed(geometry.spacing)))
    image.SetOrigin(tuple(float(o) for o in reversed(geometry.origin)))
    image.SetDirection(_flip_direction(geometry.direction))
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path), useCompression=True)
    return path


def _to_scan(image: sitk.Image, mode: Intensity, path: Path) -> Scan:
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise ScanReadError(
            f"{path}: expected a 3D single-channel volume, got {image.GetDimension()}D with "
            f"{image.GetNumberOfComponentsPerPixel()} component(s)"
        )
    values = sitk.GetArrayFromImage(image)
    if mode is Intensity.AUTO:
        mode = Intensity.HU if values.size and values.min() < 0 else Intensity.SHIFTED
    array = to_shifted_hu(values) if mode is Intensity.HU else clip_shifted(values)
    return Scan(
        array=array,
        spacing=tuple(float(s) for s in reversed(image.GetSpacing())),  # type: ignore[arg-type]
        origin=tuple(float(o) for o in reversed(image.GetOrigin())),  # type: ignore[arg-type]
        direction=_flip_direction(image.GetDirection()),
    )


def _flip_direction(direction: tuple[float, ...]) -> tuple[float, ...]:
    """Convert a row-major 3x3 direction between `(x, y, z)` and `(z, y, x)` axis order."""
    matrix = np.asarray(direction, dtype=float).reshape(3, 3)[::-1, ::-1]
    return tuple(float(v) for v in matrix.ravel())


def _read_sitk(path: Path) -> sitk.Image:
    if not path.is_file():
        raise ScanReadError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = sitk.ReadImage(str(path))
    except RuntimeError as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else "unknown error"
        raise ScanReadError(f"{path}: unreadable or corrupt scan ({reason})") from err
    if path.name.lower().endswith((".nii", ".nii.gz")):
        _check_nifti_complete(path, image)
    return image


def _check_nifti_complete(path: Path, image: sitk.Image) -> None:
    """ITK zero-fills truncated NIfTI data silently; compare the stored size with the header."""
    header = image.GetMetaData("vox_offset") if image.HasMetaDataKey("vox_offset") else "352"
    bytes_per_voxel = int(image.GetMetaData("bitpix")) // 8 if image.HasMetaDataKey("bitpix") else 0
    n_voxels = int(np.prod(image.GetSize())) * image.GetNumberOfComponentsPerPixel()
    expected = int(float(header)) + n_voxels * (bytes_per_voxel or image.GetSizeOfPixelComponent())
    try:
        if path.name.lower().endswith(".gz"):
            size = 0
            with gzip.open(path, "rb") as stream:
                while chunk := stream.read(1 << 22):
                    size += len(chunk)
        else:
            size = path.stat().st_size
    except (OSError, EOFError, zlib.error) as err:
        raise ScanReadError(f"{path}: truncated or corrupt compressed data ({err})") from err
    if size < expected:
        raise ScanReadError(f"{path}: truncated: {size} bytes of data, header needs {expected}")


def _read_dicom_series(folder: Path) -> sitk.Image:
    """The largest series in `folder`; slices GDCM skipped or gaps in z are errors."""
    reader = sitk.ImageSeriesReader()
    try:
        series = reader.GetGDCMSeriesIDs(str(folder)) or ()
        files_per_series = [reader.GetGDCMSeriesFileNames(str(folder), s) for s in series]
    except RuntimeError as err:
        raise ScanReadError(f"{folder}: cannot list DICOM series ({err})") from err
    if not files_per_series:
        raise ScanReadError(f"{folder}: folder holds no DICOM series")
    listed = {Path(f).resolve() for files in files_per_series for f in files}
    skipped = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and _has_dicom_magic(p) and p.resolve() not in listed
    )
    if skipped:
        raise ScanReadError(
            f"{folder}: unreadable DICOM file(s) {', '.join(skipped[:5])}"
            + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        )
    files = max(files_per_series, key=len)
    reader.SetFileNames(files)
    shown = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)  # the gap check below reports it
    try:
        image = reader.Execute()
    except RuntimeError as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else "unknown error"
        raise ScanReadError(f"{folder}: unreadable DICOM series ({reason})") from err
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(shown)
    if image.HasMetaDataKey("ITK_non_uniform_sampling_deviation"):
        raise ScanReadError(f"{folder}: missing slices or non-uniform slice spacing in the series")
    return image


def _has_dicom_magic(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False
