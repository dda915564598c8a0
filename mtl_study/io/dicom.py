"""Write a scan as a DICOM series folder (one file per axial slice), e.g. for exports and tests."""

from __future__ import annotations

import os
from pathlib import Path

import SimpleITK as sitk
from pydicom.uid import generate_uid

from mtl_study.io.scan import Scan


def write_dicom_series(folder: str | os.PathLike[str], scan: Scan) -> Path:
    """Write `scan` as CT slices `slice_0000.dcm`... in `folder` (int16 HU, axial, identity).

    The series is what a scanner would produce: one UID, per-slice positions, rescale 1/0,
    so `read_scan(folder)` gives the same volume and spacing back.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    volume = sitk.GetImageFromArray(scan.hu)
    volume.SetSpacing(tuple(float(s) for s in reversed(scan.spacing)))
    volume.SetOrigin(tuple(float(o) for o in reversed(scan.origin)))
    series_uid, study_uid = generate_uid(), generate_uid()
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for index in range(volume.GetDepth()):
        image = volume[:, :, index]
        position = volume.TransformIndexToPhysicalPoint((0, 0, index))
        tags = {
            "0008|0060": "CT",
            "0008|0016": "1.2.840.10008.5.1.4.1.1.2",
            "0008|0018": generate_uid(),
            "0020|000d": study_uid,
            "0020|000e": series_uid,
            "0020|0013": str(index + 1),
            "0020|0032": "\\".join(f"{p:.6f}" for p in position),
            "0020|0037": "1\\0\\0\\0\\1\\0",
            "0018|0050": f"{scan.spacing[0]:.6f}",
            "0028|1052": "0",
            "0028|1053": "1",
        }
        for tag, value in tags.items():
            image.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"slice_{index:04d}.dcm"))
        writer.Execute(image)
    return folder
