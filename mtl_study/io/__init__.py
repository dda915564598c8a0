"""CT scan readers and writers; every reader returns a `Scan` in shifted HU, `(z, y, x)`."""

from __future__ import annotations

from mtl_study.io.covid_mtl import read_covid_mtl_volume, write_covid_mtl_volume
from mtl_study.io.dicom import write_dicom_series
from mtl_study.io.readers import Intensity, read_mask, read_scan, write_mask, write_scan
from mtl_study.io.scan import HU_SHIFT, Scan, ScanReadError, to_shifted_hu

__all__ = [
    "HU_SHIFT",
    "Intensity",
    "Scan",
    "ScanReadError",
    "read_covid_mtl_volume",
    "read_mask",
    "read_scan",
    "to_shifted_hu",
    "write_covid_mtl_volume",
    "write_dicom_series",
    "write_mask",
    "write_scan",
]
