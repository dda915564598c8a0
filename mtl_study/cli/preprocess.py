"""`mtl-study preprocess`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mtl_study.data.cohort import CohortError
from mtl_study.preprocess._registry import UnknownNameError
from mtl_study.preprocess.crop import DEFAULT_CROP_SHAPE
from mtl_study.preprocess.radiomics import available as feature_sets
from mtl_study.preprocess.segmenters import available as segmenters

console = Console()

#: `--feature-set` value that skips radiomics.
NO_FEATURES = "none"


def preprocess(
    cohort: Annotated[Path, typer.Argument(help="Cohort directory (with manifest.parquet).")],
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-j", help="LocalCluster worker processes (default: all cores)."),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="Use a running scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    segmenter: Annotated[
        str, typer.Option("--segmenter", "-s", help=f"Segmenter: {', '.join(segmenters())}.")
    ] = "refined",
    feature_set: Annotated[
        str,
        typer.Option(
            "--feature-set",
            "-f",
            help=f"Radiomics set: {', '.join(feature_sets())}, or {NO_FEATURES} to skip.",
        ),
    ] = "covid-mtl-375",
    crop_shape: Annotated[
        tuple[int, int, int],
        typer.Option("--crop-shape", help="Crop box D H W in voxels at 1 mm."),
    ] = DEFAULT_CROP_SHAPE,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show the progress bar.")
    ] = True,
) -> None:
    """Segment, crop and extract radiomics features of every case, on Dask; resumable."""
    from mtl_study.preprocess.pipeline import preprocess_cohort

    try:
        summary = preprocess_cohort(
            cohort,
            segmenter=segmenter,
            feature_set=None if feature_set.lower() == NO_FEATURES else feature_set,
            crop_shape=crop_shape,
            workers=workers,
            dask_address=dask_address,
            progress=progress,
        )
    except (CohortError, UnknownNameError, ValueError, OSError) as err:
        Console(stderr=True).print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from err
    console.print(
        f"{summary.finished}/{summary.total} cases preprocessed "
        f"({len(summary.processed)} now, {len(summary.skipped)} already done, "
        f"{len(summary.failures)} failed) in {summary.seconds:.1f} s"
    )
    if summary.stage_seconds:
        stages = ", ".join(f"{k} {v:.2f}" for k, v in summary.stage_seconds.items())
        console.print(f"mean seconds per case: {stages}")
    if not summary.segmentation.empty:
        table = Table(title="segmentation vs reference masks (mean ± std over cases)")
        table.add_column("method")
        metrics = list(dict.fromkeys(m for m, _ in summary.segmentation.columns))
        for metric in metrics:
            table.add_column(metric, justify="right")
        for method, row in summary.segmentation.iterrows():
            cells = [f"{row[(m, 'mean')]:.4f} ± {row[(m, 'std')]:.4f}" for m in metrics]
            table.add_row(str(method), *cells)
        console.print(table)
    if len(summary.failures):
        count = len(summary.failures)
        console.print(f"[bold red]{count} failed case(s)[/] (preprocessed/failures.csv):")
        for row in summary.failures.itertuples():
            first = str(row.error).splitlines()[0]
            console.print(f"  {row.case_id}: {row.stage}: {first}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2)
