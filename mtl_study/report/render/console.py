"""Tables printed with rich (what `mtl-study run` shows at the end of a study).

A terminal is narrow: the wide comparison tables show only accuracy and AUC there (every
column is in the files), and cells fold instead of being cut off.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from mtl_study.report.table import Table

#: Tables shown with their accuracy/AUC columns only.
COMPACT = ("diagnosis", "severity")


def _shown(table: Table) -> list[int]:
    if table.name not in COMPACT:
        return list(range(len(table.columns)))
    keep = ("n", "split")
    return [
        j
        for j, c in enumerate(table.columns)
        if c.key in keep or c.key.endswith(("_accuracy", "_auc"))
    ]


def to_rich(table: Table) -> RichTable:
    """A rich table: best values bold green; compact for the wide comparison tables."""
    columns = _shown(table)
    title = table.title
    if len(columns) < len(table.columns):
        title += f" (accuracy and AUC; all columns in {table.name}.md)"
    out = RichTable(title=escape(title), title_justify="left")
    out.add_column(table.row_header, overflow="fold")
    for j in columns:
        out.add_column(escape(table.header(j)), justify="right", overflow="fold")
    for row, cells in zip(table.rows, table.cells, strict=True):
        texts = []
        for c in (cells[j] for j in columns):
            text = escape(c.text + c.marks)
            texts.append(f"[bold green]{text}[/]" if c.best else text)
        out.add_row(escape(row), *texts)
    return out


#: Width used when output goes to a file or pipe (rich would fold every table to 80 columns).
PIPE_WIDTH = 160


def print_tables(console: Console, tables: list[Table]) -> None:
    """Print each table to `console`; full width in a terminal, `PIPE_WIDTH` in a log."""
    if not console.is_terminal:
        console.width = max(console.width, PIPE_WIDTH)
    for table in tables:
        console.print(to_rich(table))
