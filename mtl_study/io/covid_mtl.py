"""The compressed lung-volume format published with the COVID-MTL cohort (SPEC 2.1).

A DICOM dataset whose PixelData is an encapsulated sequence of per-slice 16-bit PNG images.
The file meta claims RLE Lossless, which is not true, so pydicom's own decoders cannot read
it: each frame is decoded as PNG here. Values are shifted HU with 0 outside the lungs.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_fragments
from pydicom.uid import CTImageStorage, RLELossless, generate_uid

from mtl_study.io.scan import Scan, ScanReadError, clip_shifted, to_shifted_hu

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def is_covid_mtl_volume(path: str | os.PathLike[str]) -> bool:
    """True when `path` is a DICOM-encoded file whose first pixel fragment is a PNG image."""
    try:
        ds = _dcmread(path)
        if "PixelData" not in ds:
            return False
        fragments = generate_fragments(ds.PixelData)
        next(fragments)  # the Basic Offset Table item, possibly empty
        first = next(fragments)
    except Exception:
        return False
    return bytes(first[:8]) == PNG_MAGIC


def read_covid_mtl_volume(path: str | os.PathLike[str]) -> Scan:
    """Read a COVID-MTL compressed volume.

    The authors' files carry little more than PixelData (no Rows, Columns, NumberOfFrames or
    spacing): the shape comes from the PNG frames, the spacing defaults to 1 mm (their
    volumes were resampled to 1 x 1 x 1 mm before compression).

    Raises:
        ScanReadError: Not such a file, truncated, or frames that do not decode.
    """
    try:
        ds = _dcmread(path)
        frames = _png_frames(ds.PixelData)
    except Exception as err:
        raise ScanReadError(f"{path}: not a readable COVID-MTL volume ({err})") from err
    expected = ds.get("NumberOfFrames")
    if expected is not None and int(expected) != len(frames):
        raise ScanReadError(f"{path}: {len(frames)} frames found, header says {int(expected)}")
    if not frames:
        raise ScanReadError(f"{path}: no frames in PixelData")
    slices = []
    shape = (int(ds.Rows), int(ds.Columns)) if "Rows" in ds and "Columns" in ds else None
    for index, frame in enumerate(frames):
        try:
            with Image.open(io.BytesIO(frame)) as image:
                image.load()
                pixels = np.array(image)
        except Exception as err:
            raise ScanReadError(f"{path}: frame {index} is not a valid PNG ({err})") from err
        shape = shape or pixels.shape
        if pixels.shape != shape:
            raise ScanReadError(f"{path}: frame {index} has shape {pixels.shape}, not {shape}")
        slices.append(pixels)
    values = np.stack(slices).astype(np.float32)
    if "RescaleSlope" in ds or "RescaleIntercept" in ds:
        hu = values * float(ds.get("RescaleSlope", 1.0)) + float(ds.get("RescaleIntercept", 0.0))
        array = to_shifted_hu(hu)
    else:
        array = clip_shifted(values)
    return Scan(array=array, spacing=_spacing(ds), origin=_origin(ds))


def _dcmread(path: str | os.PathLike[str]) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, force=True)


def _png_frames(pixel_data: bytes) -> list[bytes]:
    """Group encapsulated fragments into frames: a frame starts at each PNG signature."""
    frames: list[bytes] = []
    fragments = generate_fragments(pixel_data)
    next(fragments)  # the Basic Offset Table item, possibly empty
    for fragment in fragments:
        if fragment[:8] == PNG_MAGIC or not frames:
            frames.append(bytes(fragment))
        else:
            frames[-1] += bytes(fragment)
    return frames


def write_covid_mtl_volume(path: str | os.PathLike[str], scan: Scan) -> Path:
    """Write `scan` (shifted HU) in the COVID-MTL format, so tests and users can make such files."""
    path = Path(path)
    file_meta = FileMetaDataset()
    file_meta.MediaStorageSOPClassUID = CTImageStorage
    file_meta.MediaStorageSOPInstanceUID = generate_uid()
    file_meta.TransferSyntaxUID = RLELossless
    ds = Dataset()
    ds.file_meta = file_meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.Rows, ds.Columns = int(scan.array.shape[1]), int(scan.array.shape[2])
    ds.NumberOfFrames = int(scan.array.shape[0])
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelSpacing = [float(scan.spacing[1]), float(scan.spacing[2])]
    ds.SliceThickness = float(scan.spacing[0])
    ds.SpacingBetweenSlices = float(scan.spacing[0])
    ds.ImagePositionPatient = [float(scan.origin[2]), float(scan.origin[1]), float(scan.origin[0])]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelData = encapsulate([_png(s) for s in np.asarray(scan.array, dtype=np.uint16)])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


def _png(slice_: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(slice_, dtype=np.uint16)).save(buffer, format="PNG")
    return buffer.getvalue()


def _spacing(ds: Dataset) -> tuple[float, float, float]:
    row, col = (float(v) for v in ds.get("PixelSpacing", [1.0, 1.0]))
    depth = ds.get("SpacingBetweenSlices", ds.get("SliceThickness", 1.0))
    return (float(depth or 1.0), row, col)


def _origin(ds: Dataset) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in ds.get("ImagePositionPatient", [0.0, 0.0, 0.0]))
    return (z, y, x)
