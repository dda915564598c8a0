"""Markdown tables (GitHub style), readable in a terminal and in any Markdown viewer."""

from __future__ import annotations

from mtl_study.report.table import Cell, Table


def cell_text(cell: Cell) -> str:
    """Best values in bold, significance marks after the number."""
    text = f"**{cell.text}**" if cell.best else cell.text
    return text + cell.marks


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(table: Table, heading: str = "###") -> str:
    """One table with its caption, notes and the traceability footer (as an HTML comment)."""
    header = [table.row_header] + [table.header(j) for j in range(len(table.columns))]
    lines = [f"{heading} {table.title}", ""]
    lines.append("| " + " | ".join(_escape(h) for h in header) + " |")
    lines.append("|" + "|".join([":---"] + ["---:"] * len(table.columns)) + "|")
    for row, cells in zip(table.rows, table.cells, strict=True):
        texts = [_escape(row)] + [_escape(cell_text(c)) for c in cells]
        lines.append("| " + " | ".join(texts) + " |")
    lines.append("")
    lines += [f"- {note}" for note in table.notes]
    lines.append("")
    lines.append("<!-- " + "; ".join(table.provenance.lines()) + " -->")
    return "\n".join(lines) + "\n"
