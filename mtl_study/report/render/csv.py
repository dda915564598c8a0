"""Tidy CSV: one row per model/variant (x task) or per feature x task, plain column names.

The traceability lines come first as `#` comments; read with `pandas.read_csv(path,
comment="#")`.
"""

from __future__ import annotations

from pathlib import Path

from mtl_study.report.table import Table


def write_csv(table: Table, path: Path) -> Path:
    """Write `table.data` with the provenance as leading comment lines."""
    header = "".join(f"# {line}\n" for line in table.provenance.lines())
    path.write_text(header + table.data.to_csv(index=False), encoding="utf-8")
    return path
