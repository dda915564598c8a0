"""Tables printed with rich (what `mtl-study run` shows at the end of a study)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from mtl_study.report.table import Table


def to_rich(table: Table) -> RichTable:
    """A rich table: best values bold green, missing cells dim."""
    out = RichTable(title=table.title, title_justify="left", show_lines=False)
    out.add_column(table.row_header, no_wrap=True)
    for j in range(len(table.columns)):
        out.add_column(table.header(j), justify="right")
    for row, cells in zip(table.rows, table.cells, strict=True):
        texts = []
        for c in cells:
            text = escape(c.text + c.marks)
            texts.append(f"[bold green]{text}[/]" if c.best else text)
        out.add_row(escape(row), *texts)
    if table.notes:
        out.caption = escape(" ".join(table.notes))
        out.caption_justify = "left"
    return out


def print_tables(console: Console, tables: list[Table]) -> None:
    """Print each table to `console`."""
    for table in tables:
        console.print(to_rich(table))
