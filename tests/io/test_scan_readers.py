"""Readers round-trip every supported format and fail clearly on broken files."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from mtl_study.io import (
    Scan,
    ScanReadError,
    read_mask,
    read_scan,
    to_shifted_hu,
    write_covid_mtl_volume,
    write_dicom_series,
    write_mask,
    write_scan,
)


@pytest.fixture
def scan() -> Scan:
    """A small CT-like volume: air, tissue and bone, anisotropic spacing, shifted origin."""
    rng = np.random.default_rng(0)
    hu = rng.normal(-850, 40, size=(7, 20, 24))
    hu[:, :3] = -1000
    hu[:, -4:] = 40
    hu[3, 10:12, 10:12] = 900
    return Scan(array=to_shifted_hu(hu), spacing=(2.5, 0.7, 0.8), origin=(-30.0, 12.5, -7.0))


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".nrrd", ".mha"])
def test_sitk_formats_round_trip(tmp_path: Path, scan: Scan, suffix: str) -> None:
    path = write_scan(tmp_path / f"ct{suffix}", scan)
    back = read_scan(path)
    assert back.array.dtype == np.uint16
    np.testing.assert_array_equal(back.array, scan.array)
    np.testing.assert_allclose(back.spacing, scan.spacing, rtol=1e-6)
    np.testing.assert_allclose(back.origin, scan.origin, rtol=1e-6)
    assert back.direction == scan.direction


def test_dicom_series_round_trip(tmp_path: Path, scan: Scan) -> None:
    folder = write_dicom_series(tmp_path / "series", scan)
    assert len(list(folder.glob("*.dcm"))) == scan.shape[0]
    back = read_scan(folder)
    np.testing.assert_array_equal(back.array, scan.array)
    np.testing.assert_allclose(back.spacing, scan.spacing, rtol=1e-5)
    np.testing.assert_allclose(back.origin, scan.origin, atol=1e-4)


def test_dicom_folder_with_two_series_reads_the_larger(tmp_path: Path, scan: Scan) -> None:
    folder = write_dicom_series(tmp_path / "series", scan)
    small = write_dicom_series(tmp_path / "small", Scan(scan.array[:3], scan.spacing))
    for index, path in enumerate(sorted(small.iterdir())):
        path.rename(folder / f"scout_{index}.dcm")
    assert read_scan(folder).shape == scan.shape


def test_dicom_series_with_broken_or_missing_slice(tmp_path: Path, scan: Scan) -> None:
    folder = write_dicom_series(tmp_path / "series", scan)
    broken = folder / "slice_0003.dcm"
    broken.write_bytes(broken.read_bytes()[:400])
    with pytest.raises(ScanReadError, match=r"series: unreadable DICOM file\(s\) slice_0003"):
        read_scan(folder)
    broken.unlink()
    with pytest.raises(ScanReadError, match="missing slices"):
        read_scan(folder)


def test_covid_mtl_volume_round_trip(tmp_path: Path, scan: Scan) -> None:
    lungs_only = scan.array.copy()
    lungs_only[:, :5] = 0  # segmented volumes keep 0 outside the lungs
    source = Scan(lungs_only, scan.spacing, scan.origin)
    path = write_covid_mtl_volume(tmp_path / "case.dcm", source)
    import pydicom

    meta = pydicom.dcmread(path, stop_before_pixels=True).file_meta
    assert meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"  # claims RLE Lossless
    back = read_scan(path)
    np.testing.assert_array_equal(back.array, lungs_only)
    np.testing.assert_allclose(back.spacing, scan.spacing)
    np.testing.assert_allclose(back.origin, scan.origin)


@pytest.mark.parametrize("has_bot", [True, False])
def test_covid_mtl_volume_as_the_authors_wrote_it(
    tmp_path: Path, scan: Scan, has_bot: bool
) -> None:
    """Their files hold PixelData and patient tags only: no Rows, frame count or spacing."""
    import io

    from PIL import Image
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    frames = []
    for plane in scan.array:
        buffer = io.BytesIO()
        Image.fromarray(plane.astype(np.ushort)).save(buffer, format="PNG")
        frames.append(buffer.getvalue())
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.2.4.51"
    meta.MediaStorageSOPInstanceUID = "1.2.3"
    meta.TransferSyntaxUID = RLELossless
    path = tmp_path / "Patient 7.dtm"
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.PatientName, ds.PatientID = "Patient 7", "7"
    ds.PixelData = encapsulate(frames, has_bot=has_bot)
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)

    back = read_scan(path)
    np.testing.assert_array_equal(back.array, scan.array)
    assert back.spacing == (1.0, 1.0, 1.0)


def test_direction_is_reported_in_zyx_order(tmp_path: Path, scan: Scan) -> None:
    # Index axis x runs along physical -x: only the last diagonal entry flips in (z, y, x).
    flipped = Scan(scan.array, scan.spacing, scan.origin, (1, 0, 0, 0, 1, 0, 0, 0, -1.0))
    back = read_scan(write_scan(tmp_path / "flipped.nrrd", flipped))
    assert back.direction == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def test_intensity_modes(tmp_path: Path, scan: Scan) -> None:
    shifted_file = write_scan(tmp_path / "shifted.nii.gz", scan, as_hu=False)
    auto = read_scan(shifted_file)  # no negative values: already shifted
    np.testing.assert_array_equal(auto.array, scan.array)
    forced = read_scan(shifted_file, intensity="hu")
    expected = np.clip(scan.array.astype(int) + 1024, 0, 4095)  # read as HU: shifted again
    np.testing.assert_array_equal(forced.array, expected)
    with pytest.raises(ValueError):
        read_scan(shifted_file, intensity="kelvin")


def test_masks_round_trip(tmp_path: Path, scan: Scan) -> None:
    mask = (scan.array > 500).astype(np.uint8)
    path = write_mask(tmp_path / "mask.nii.gz", mask * 7, scan)
    back, spacing = read_mask(path)
    np.testing.assert_array_equal(back, mask)
    np.testing.assert_allclose(spacing, scan.spacing)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ScanReadError, match=r"nowhere\.nii\.gz"):
        read_scan(tmp_path / "nowhere.nii.gz")


@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd", ".mha"])
def test_truncated_file_names_the_path(tmp_path: Path, scan: Scan, suffix: str) -> None:
    path = write_scan(tmp_path / f"ct{suffix}", scan, as_hu=True)
    data = path.read_bytes()
    if suffix == ".nii.gz":
        data = gzip.compress(gzip.decompress(data)[:600])
    else:
        data = data[: len(data) // 3]
    path.write_bytes(data)
    with pytest.raises(ScanReadError, match=re.escape(f"ct{suffix}")):
        read_scan(path)


def test_garbage_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "garbage.mha"
    path.write_bytes(b"this is not a scan at all")
    with pytest.raises(ScanReadError, match=r"garbage\.mha"):
        read_scan(path)


def test_truncated_covid_mtl_volume(tmp_path: Path, scan: Scan) -> None:
    path = write_covid_mtl_volume(tmp_path / "case.dcm", scan)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - len(data) // 4])
    with pytest.raises(ScanReadError, match=r"case\.dcm"):
        read_scan(path)


def test_corrupt_png_frame(tmp_path: Path, scan: Scan) -> None:
    path = write_covid_mtl_volume(tmp_path / "case.dcm", scan)
    data = bytearray(path.read_bytes())
    last_png = data.rfind(b"IDAT")
    data[last_png + 8 : last_png + 40] = b"\x00" * 32  # damage the last frame's pixels
    path.write_bytes(bytes(data))
    with pytest.raises(ScanReadError, match=r"case\.dcm.*frame"):
        read_scan(path)


def test_empty_folder_is_not_a_series(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScanReadError, match="no DICOM series"):
        read_scan(tmp_path / "empty")


def test_real_chest_ct(lung1_ct: Path) -> None:
    scan = read_scan(lung1_ct)
    assert scan.shape == (48, 512, 512)
    np.testing.assert_allclose(scan.spacing, (5.0, 0.5703125, 0.5703125))
    air = scan.array[:, :20, :20]  # corner of the field of view
    assert np.median(air) < 100  # about -1024 HU shifted to 0
    assert scan.array.max() > 1024 + 500  # bone
