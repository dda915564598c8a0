"""Renderers: the same computed `Table` written as Markdown, LaTeX, CSV, HTML or to a terminal."""

from __future__ import annotations

from mtl_study.report.render.csv import write_csv
from mtl_study.report.render.latex import to_latex
from mtl_study.report.render.markdown import to_markdown

__all__ = ["to_latex", "to_markdown", "write_csv"]
