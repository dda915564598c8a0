"""One self-contained report.html: every table and every figure (PNG embedded as base64)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from mtl_study.report.table import Table

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{padding:3px 8px;border-bottom:1px solid #ccc;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{border-bottom:2px solid #333}
caption{font-weight:bold;text-align:left;padding:4px 0}
.notes,.trace{font-size:12px;color:#555}
figure{display:inline-block;margin:1em}
img{max-width:640px}
"""


def table_html(table: Table) -> str:
    """An HTML table with a two-level header when columns carry task groups."""
    esc = html.escape
    out = [f'<section id="{esc(table.name)}">', "<table>", f"<caption>{esc(table.title)}</caption>"]
    out.append("<thead>")
    if table.grouped:
        out.append("<tr><th></th>")
        i = 0
        while i < len(table.columns):
            group = table.columns[i].group
            width = 1
            while i + width < len(table.columns) and table.columns[i + width].group == group:
                width += 1
            out.append(f'<th colspan="{width}">{esc(group)}</th>')
            i += width
        out.append("</tr>")
    heads = "".join(f"<th>{esc(c.label)}</th>" for c in table.columns)
    out.append(f"<tr><th>{esc(table.row_header)}</th>{heads}</tr></thead><tbody>")
    for row, cells in zip(table.rows, table.cells, strict=True):
        tds = []
        for c in cells:
            text = esc(c.text)
            if c.best:
                text = f"<b>{text}</b>"
            if c.marks:
                text += f"<sup>{esc(c.marks)}</sup>"
            tds.append(f"<td>{text}</td>")
        out.append(f"<tr><td>{esc(row)}</td>{''.join(tds)}</tr>")
    out.append("</tbody></table>")
    out += [f'<p class="notes">{esc(n)}</p>' for n in table.notes]
    out.append(f'<p class="trace">{esc("; ".join(table.provenance.lines()))}</p>')
    out.append("</section>")
    return "\n".join(out)


def figure_html(path: Path) -> str:
    """A figure with its PNG embedded, captioned with the file name."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    name = html.escape(path.name)
    return (
        f'<figure><img alt="{name}" src="data:image/png;base64,{data}">'
        f"<figcaption>{name}</figcaption></figure>"
    )


def write_html(
    path: Path, title: str, tables: list[Table], figures: list[Path], header: list[str]
) -> Path:
    """Write the whole report; `header` lines (study, cohort) go under the title."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    parts += [f'<p class="trace">{html.escape(line)}</p>' for line in header]
    if tables:
        parts.append("<h2>Tables</h2>")
        parts += [table_html(t) for t in tables]
    if figures:
        parts.append("<h2>Figures</h2>")
        parts += [figure_html(f) for f in figures]
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
