"""Reporting from stored trials: tables, statistics, figures (no Ray, no training)."""

from __future__ import annotations

from mtl_study.report.generate import (
    Report,
    compute,
    features_report,
    generate,
    segmentation_report,
)
from mtl_study.report.load import ReportError, Results, load_results

__all__ = [
    "Report",
    "ReportError",
    "Results",
    "compute",
    "features_report",
    "generate",
    "load_results",
    "segmentation_report",
]
