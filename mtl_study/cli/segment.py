"""`mtl-study segment`: one scan on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mtl_study.io import ScanReadError
from mtl_study.preprocess._registry import UnknownNameError
from mtl_study.preprocess.segmenters import available

console = Console()


def segment(
    scan: Annotated[
        Path, typer.Argument(help="Scan file (NIfTI, NRRD, MHA, DICOM, COVID-MTL) or DICOM folder.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    segmenter: Annotated[
        str,
        typer.Option("--segmenter", "-s", help=f"Segmenter: {', '.join(available())}."),
    ] = "refined",
) -> None:
    """Segment the lungs of one scan: mask (NIfTI), overlay PNG, litres per lung."""
    from mtl_study.preprocess.single import segment_scan

    try:
        result = segment_scan(scan, out, segmenter)
    except (ScanReadError, UnknownNameError) as err:
        Console(stderr=True).print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from err
    litres = ", ".join(f"{v:.3f} L" for v in result.lung_litres) or "none"
    console.print(f"mask     {result.mask_path}")
    console.print(f"overlay  {result.overlay_path}")
    console.print(
        f"lungs    {len(result.lung_litres)} ({litres}; total {sum(result.lung_litres):.3f} L)"
    )
    console.print(f"components {result.components}   time {result.seconds:.1f} s")
