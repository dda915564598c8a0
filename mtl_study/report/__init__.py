"""Reporting from stored trials: tables, statistics, figures (no Ray, no training)."""

from __future__ import annotations

from mtl_study.report.generate import Report, compute, generate
from mtl_study.report.load import ReportError, Results, load_results

__all__ = ["Report", "ReportError", "Results", "compute", "generate", "load_results"]
