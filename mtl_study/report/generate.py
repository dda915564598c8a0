"""Compute every table a results directory supports, render each in every format.

Tables are optional: a study that ran only an ablation gets the ablation table, a search only
the search summary; nothing present is never an error, a missing cell is shown as "—".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.console import Console

from mtl_study.report import ablation, comparison, figures, search, significance
from mtl_study.report.features import FeatureAnalysis, analyse
from mtl_study.report.load import ReportError, Results, load_results
from mtl_study.report.render import to_latex, to_markdown, write_csv
from mtl_study.report.render.console import print_tables
from mtl_study.report.render.html import write_html
from mtl_study.report.segmentation import segmentation
from mtl_study.report.table import Table

log = logging.getLogger(__name__)

#: Tables printed in the terminal (the others go to files only).
PRINTED = ("diagnosis", "severity", "ablation", "transfer", "search")


@dataclass
class Report:
    """Everything computed for one results directory."""

    results: Results
    tables: list[Table] = field(default_factory=list)
    features: FeatureAnalysis | None = None

    def table(self, name: str) -> Table | None:
        """The table called `name`, if the results support it."""
        return next((t for t in self.tables if t.name == name), None)


def compute(
    results: Results,
    baseline: str | None = None,
    feature_estimators: int = 1000,
    cache: Path | None = None,
) -> Report:
    """Build every supported table in report order.

    `cache`: top_features.csv of a previous report, reused when the cohort is unchanged.
    """
    report = Report(results)
    _check_baseline(results, baseline)
    cohort = results.cohort_root
    study_hash = str(results.manifest.get("study_hash", "unknown"))
    if cohort is not None:
        seg = segmentation(cohort, study_hash)
        if seg is not None:
            report.tables.append(seg)
    tests, sources = [], {}
    for build in (comparison.diagnosis, comparison.severity):
        made = build(results, baseline)
        if made is not None:
            table, sig = made
            report.tables.append(table)
            for row, ids in table.sources.items():
                sources[row] = sorted(set(sources.get(row, [])) | set(ids))
            if not sig.empty:
                tests.append(sig)
    if tests:
        sig_table = significance.significance_table(
            results, pd.concat(tests, ignore_index=True), sources
        )
        if sig_table is not None:
            report.tables.append(sig_table)
    if cohort is not None and (cohort / "features.parquet").exists():
        try:
            report.features = analyse(
                cohort,
                n_estimators=feature_estimators,
                results_dir=str(results.root),
                study_hash=study_hash,
                cache=cache,
            )
            report.tables.append(report.features.welch)
        except (ReportError, ValueError) as exc:
            log.warning("feature analysis skipped: %s", exc)
    for build in (ablation.loss_ablation, ablation.transfer_ablation, search.search_summary):
        table = build(results)
        if table is not None:
            report.tables.append(table)
    return report


def _check_baseline(results: Results, baseline: str | None) -> None:
    """An unknown `--baseline` fails with the valid row names and the nearest match."""
    if baseline is None:
        return
    rows = sorted(set(results.final["row"])) if not results.final.empty else []
    if baseline not in rows:
        import difflib

        near = difflib.get_close_matches(baseline, rows, n=1)
        hint = f"; nearest: {near[0]!r}" if near else ""
        raise ReportError(f"{results.root}: no row {baseline!r} (rows: {rows}{hint})")


def write_tables(tables: list[Table], out: Path) -> list[Path]:
    """`<name>.csv`, `<name>.md`, `<name>.tex` for every table."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in tables:
        paths.append(write_csv(table, out / f"{table.name}.csv"))
        (out / f"{table.name}.md").write_text(to_markdown(table), encoding="utf-8")
        (out / f"{table.name}.tex").write_text(to_latex(table), encoding="utf-8")
        paths += [out / f"{table.name}.md", out / f"{table.name}.tex"]
    return paths


def feature_figures(analysis: FeatureAnalysis, out: Path) -> list[Path]:
    """Box plots and the clustered heatmap of the selected features."""
    frame, selected = analysis.cohort.frame, analysis.selected
    return figures.feature_boxplots(frame, selected, out) + figures.feature_heatmap(
        frame, selected, out
    )


def generate(
    results_dir: str | Path,
    out: str | Path | None = None,
    console: Console | None = None,
    baseline: str | None = None,
) -> Path:
    """Write the report of a results directory and return the folder it went to.

    Args:
        results_dir: A results directory (docs/contracts.md section 5).
        out: Target folder; default `results_dir/report`.
        console: When given, the main tables are printed to it.
        baseline: Row the significance tests compare against (default: the proposed
            COVID-MTL row present).

    Raises:
        ReportError: The results directory is missing or unreadable.
    """
    results = load_results(results_dir)
    target = Path(out) if out is not None else results.root / "report"
    target.mkdir(parents=True, exist_ok=True)
    report = compute(results, baseline, cache=target / "top_features.csv")
    write_tables(report.tables, target)
    if results.search is not None and not results.search.empty:
        # Every Optuna trial, tidy: the data behind the metric-vs-parameter figures.
        search = results.search
        ids = [f"{s}#{n}" for s, n in zip(search["search"], search["number"], strict=True)]
        header = "".join(f"# {line}\n" for line in results.provenance(ids).lines())
        (target / "search_trials.csv").write_text(
            header + search.to_csv(index=False), encoding="utf-8"
        )
    pngs = (
        figures.roc_curves(results, target)
        + figures.loss_curves(results, target)
        + figures.search_plots(results, target)
    )
    if report.features is not None:
        pngs += feature_figures(report.features, target)
    header = [
        f"results: {results.root}",
        f"study hash: {results.manifest.get('study_hash', 'unknown')}",
        f"cohort hash: {results.manifest.get('cohort_hash', 'unknown')}",
        f"finished trials: {len(results.final)}; failed trials: {len(results.errors)}",
    ]
    write_html(
        target / "report.html",
        f"mtl-study report: {results.root.name}",
        report.tables,
        pngs + figures.cam_images(results),
        header,
    )
    if console is not None:
        print_tables(console, [t for t in report.tables if t.name in PRINTED])
        if len(results.errors):
            console.print(f"[yellow]{len(results.errors)} trial(s) ended with an error.[/]")
        console.print(f"Report written to {target}")
    return target


def features_report(
    cohort_dir: str | Path,
    out: str | Path | None = None,
    features: list[str] | None = None,
    all_features: bool = False,
    console: Console | None = None,
    n_estimators: int = 1000,
) -> Path:
    """`mtl-study report features`: top features, Welch table, box plots, heatmap, HTML.

    Raises:
        ReportError: The cohort has no features, or a named feature does not exist.
    """
    target = Path(out) if out is not None else Path(cohort_dir).resolve() / "report"
    analysis = analyse(
        cohort_dir, features, all_features, n_estimators, cache=target / "top_features.csv"
    )
    write_tables([analysis.welch], target)
    pngs = feature_figures(analysis, target)
    header = [
        f"cohort: {analysis.cohort.root}",
        f"cohort hash: {analysis.cohort.content_hash}",
        f"cases: {len(analysis.cohort.frame)}; features analysed: {len(analysis.selected)}",
    ]
    write_html(target / "report.html", "mtl-study feature analysis", [analysis.welch], pngs, header)
    if console is not None:
        print_tables(console, [analysis.welch])
        console.print(f"Feature report written to {target}")
    return target


def segmentation_report(
    cohort_dir: str | Path, out: str | Path | None = None, console: Console | None = None
) -> Path:
    """`mtl-study report segmentation`: the method x metric table of a preprocessed cohort.

    Raises:
        ReportError: The cohort has no preprocessed/segmentation.csv.
    """
    root = Path(cohort_dir).resolve()
    table = segmentation(root)
    if table is None:
        raise ReportError(
            f"{root / 'preprocessed' / 'segmentation.csv'}: not found or empty "
            "(run `mtl-study preprocess` with reference masks first)"
        )
    target = Path(out) if out is not None else root / "report"
    write_tables([table], target)
    if console is not None:
        print_tables(console, [table])
        console.print(f"Segmentation table written to {target}")
    return target
