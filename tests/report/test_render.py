"""The written report: every format of every table, figures, HTML, traceability."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from mtl_study.report import generate

pytestmark = pytest.mark.ray

TABLES = ("diagnosis", "severity", "significance", "welch", "ablation")


@pytest.fixture(scope="module")
def written(study_results: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    console = Console(record=True, width=200)
    out = generate(study_results, tmp_path_factory.mktemp("report") / "out", console=console)
    return out, console.export_text()


def _balanced(tex: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def test_every_table_in_every_format_with_traceability(written, study_results: Path) -> None:
    out, _ = written
    manifest = pd.read_json(study_results / "manifest.json", typ="series")
    for name in TABLES:
        for ext in ("csv", "md", "tex"):
            text = (out / f"{name}.{ext}").read_text(encoding="utf-8")
            assert str(manifest["cohort_hash"]) in text, (name, ext)
            assert "trials aggregated" in text
        if name != "welch":
            assert str(manifest["study_hash"]) in (out / f"{name}.md").read_text(encoding="utf-8")
    assert not (out / "transfer.csv").exists()  # no transfer stage in this study


def test_latex_is_booktabs_and_balanced(written) -> None:
    out, _ = written
    for name in TABLES:
        tex = (out / f"{name}.tex").read_text(encoding="utf-8")
        assert _balanced(tex), name
        for command in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}"):
            assert command in tex, (name, command)
        assert tex.count(r"\begin{table}") == tex.count(r"\end{table}") == 1
        assert "±" not in tex and "—" not in tex
    assert r"\cmidrule" in (out / "diagnosis.tex").read_text(
        encoding="utf-8"
    )  # ct / nat header groups


def test_csv_is_tidy_and_readable(written) -> None:
    out, _ = written
    diagnosis = pd.read_csv(out / "diagnosis.csv", comment="#")
    assert {"model", "task", "split", "n", "auc", "auc_std", "accuracy"} <= set(diagnosis.columns)
    assert set(diagnosis["task"]) == {"ct", "nat"}
    welch = pd.read_csv(out / "welch.csv", comment="#")
    assert list(welch.columns) == ["feature", "task", "statistic", "df1", "df2", "p"]
    sig = pd.read_csv(out / "significance.csv", comment="#")
    assert {"model", "baseline", "task", "test", "p", "p_holm"} <= set(sig.columns)


def test_markdown_marks_best_and_missing(written) -> None:
    out, _ = written
    md = (out / "diagnosis.md").read_text(encoding="utf-8")
    assert "**" in md and "| RF |" in md and " ± " in md


def test_html_embeds_every_table_and_figure(written) -> None:
    out, _ = written
    html = (out / "report.html").read_text(encoding="utf-8")
    pngs = sorted(out.glob("*.png"))
    assert {p.name for p in pngs} >= {"roc_ct.png", "roc_nat.png", "roc_severity.png"}
    assert "loss_curves.png" in {p.name for p in pngs}
    assert "features_heatmap.png" in {p.name for p in pngs}
    for name in TABLES:
        assert f'<section id="{name}">' in html
    for png in pngs:
        assert base64.b64encode(png.read_bytes()).decode() in html, png.name
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_console_prints_the_main_tables(written) -> None:
    _, text = written
    assert "Diagnosis" in text and "Loss ablation" in text
    assert "2 trial(s) ended with an error" in text
