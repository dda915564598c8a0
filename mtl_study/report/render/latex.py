"""LaTeX tables with booktabs rules, ready to \\input into a paper (needs booktabs)."""

from __future__ import annotations

from itertools import groupby

from mtl_study.report.table import MISSING, Cell, Table

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    MISSING: "---",
    "<": r"$<$",
    ">": r"$>$",
    "†": r"\textsuperscript{\dag}",
    "‡": r"\textsuperscript{\ddag}",
    "§": r"\textsuperscript{\S}",
    "×": r"$\times$",
}
_MARKS = {"*": r"\textsuperscript{*}"}


def escape(text: str) -> str:
    """Escape LaTeX specials and map the report's symbols to LaTeX commands."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))


def cell_tex(cell: Cell) -> str:
    """Best values in bold; significance marks as superscripts."""
    text = escape(cell.text)
    if cell.best:
        text = rf"\textbf{{{text}}}"
    return text + "".join(_MARKS.get(m, escape(m)) for m in cell.marks)


def to_latex(table: Table) -> str:
    """A `table` float with caption, label, booktabs rules, notes and a provenance comment."""
    lines = [f"% {line}" for line in table.provenance.lines()]
    lines += [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{escape(table.title)}}}",
        rf"\label{{tab:{table.name}}}",
        r"\begin{tabular}{l" + "r" * len(table.columns) + "}",
        r"\toprule",
    ]
    if table.grouped:
        spans, rules, col = [""], [], 2
        for group, members in groupby(table.columns, key=lambda c: c.group):
            width = len(list(members))
            if group:
                spans.append(rf"\multicolumn{{{width}}}{{c}}{{{escape(group)}}}")
                rules.append(rf"\cmidrule(lr){{{col}-{col + width - 1}}}")
            else:
                spans += [""] * width
            col += width
        lines.append(" & ".join(spans) + r" \\")
        lines.append(" ".join(rules))
    header = [escape(table.row_header)] + [escape(c.label) for c in table.columns]
    lines.append(" & ".join(header) + r" \\")
    lines.append(r"\midrule")
    for row, cells in zip(table.rows, table.cells, strict=True):
        lines.append(" & ".join([escape(row)] + [cell_tex(c) for c in cells]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if table.notes:
        lines.append(r"\par\smallskip\footnotesize " + " ".join(escape(n) for n in table.notes))
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
