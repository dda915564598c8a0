"""`mtl-study data` commands: synthesise, import, split and inspect cohorts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mtl_study.data.cohort import CohortError, load_cohort, save_cohort
from mtl_study.data.schema import TASKS
from mtl_study.data.summary import CohortSummary, summarize
from mtl_study.io.scan import ScanReadError

app = typer.Typer(no_args_is_help=True, rich_markup_mode="rich")
console = Console()
errors = Console(stderr=True)

CohortArg = Annotated[
    Path | None,
    typer.Argument(help="Cohort directory (default: the embedded synthetic cohort)."),
]
TestSize = Annotated[float, typer.Option("--test-size", help="Share of cases in the test split.")]
Folds = Annotated[int, typer.Option("--folds", help="Cross-validation folds inside train.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the split (and of the generator).")]


def _fail(err: Exception) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {err}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code=1)


def _resolve(cohort: Path | None) -> Path:
    if cohort is not None:
        return cohort
    from mtl_study.data.default import cache_dir, default_cohort

    with console.status(f"preparing the embedded synthetic cohort in {cache_dir()} ..."):
        return default_cohort()


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Cohort directory to write.")],
    cases: Annotated[int, typer.Option("--cases", "-n", help="Number of cases.")] = 60,
    seed: Seed = 0,
    shape: Annotated[
        tuple[int, int, int], typer.Option("--shape", help="Volume shape D H W (voxels).")
    ] = (64, 96, 96),
    spacing: Annotated[
        tuple[float, float, float], typer.Option("--spacing", help="Voxel size Z Y X (mm).")
    ] = (1.25, 1.0, 1.0),
    workers: Annotated[int, typer.Option("--workers", "-j", help="Processes drawing.")] = 1,
    test_size: TestSize = 0.3,
    folds: Folds = 5,
) -> None:
    """Write a synthetic chest-CT cohort: phantoms, lung and lesion masks, labels, splits."""
    from mtl_study.data.synth import generate_cohort

    start = time.perf_counter()
    try:
        generate_cohort(
            out,
            n_cases=cases,
            seed=seed,
            shape=shape,
            spacing=spacing,
            workers=workers,
            test_size=test_size,
            n_folds=folds,
        )
    except (CohortError, ValueError) as err:
        raise _fail(err) from err
    console.print(f"wrote {cases} synthetic cases to {out} in {time.perf_counter() - start:.1f} s")
    _render(summarize(load_cohort(out)))


@app.command()
def info(cohort: CohortArg = None) -> None:
    """Summarise a cohort: cases, classes per task and split, folds, features, hospitals."""
    try:
        loaded = load_cohort(_resolve(cohort))
    except CohortError as err:
        raise _fail(err) from err
    _render(summarize(loaded))


@app.command()
def split(
    cohort: Annotated[Path, typer.Argument(help="Cohort directory to re-split.")],
    test_size: TestSize = 0.3,
    stratify: Annotated[
        str, typer.Option("--stratify", help=f"Task to stratify by ({', '.join(TASKS)}, none).")
    ] = "nat",
    folds: Folds = 5,
    seed: Seed = 0,
) -> None:
    """Recompute the train/test split and the folds, stored in the manifest.

    Results computed on the old split no longer match the cohort (its content hash changes).
    """
    from mtl_study.data.splits import assign_splits

    try:
        loaded = load_cohort(cohort)
        manifest = assign_splits(
            loaded.manifest,
            test_size=test_size,
            stratify=None if stratify.lower() == "none" else stratify,
            n_folds=folds,
            seed=seed,
        )
        meta = {
            **loaded.meta,
            "split": {
                "test_size": test_size,
                "stratify": stratify,
                "n_folds": folds,
                "seed": seed,
            },
        }
        saved = save_cohort(loaded.root, manifest, features=loaded.features, meta=meta)
    except (CohortError, ValueError) as err:
        raise _fail(err) from err
    _render(summarize(saved))


@app.command("import-covid-mtl")
def import_covid_mtl(
    features: Annotated[
        Path, typer.Option("--features", help="features.csv[.gz]: PID + 375 published features.")
    ],
    labels: Annotated[
        Path,
        typer.Option("--labels", help="labels.csv (COVIDCT, COVIDNC, ...) or Patients.xlsx."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Cohort directory to write.")],
    test_size: TestSize = 0.3,
    folds: Folds = 5,
    seed: Seed = 0,
) -> None:
    """Import the published COVID-MTL feature cohort (split 70/30 by nat, folds in train)."""
    from mtl_study.data.importers import import_covid_mtl as run_import

    try:
        cohort = run_import(features, labels, out, test_size=test_size, n_folds=folds, seed=seed)
    except CohortError as err:
        raise _fail(err) from err
    _render(summarize(cohort))


@app.command("import-scans")
def import_scans(
    labels: Annotated[
        Path,
        typer.Option(
            "--labels",
            help="Table: case_id, image (file or DICOM folder), ct, nat, severity, "
            "[mask, lesion, age, gender, hospital, split, fold].",
        ),
    ],
    images_dir: Annotated[
        Path, typer.Option("--images-dir", help="Folder that relative image paths start from.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Cohort directory to write.")],
    copy: Annotated[
        bool, typer.Option("--copy/--reference", help="Copy scans into the cohort.")
    ] = False,
    workers: Annotated[int, typer.Option("--workers", "-j", help="Threads reading scans.")] = 4,
    test_size: TestSize = 0.3,
    folds: Folds = 5,
    seed: Seed = 0,
) -> None:
    """Make a cohort of your own scans; every missing or unreadable file is listed at once."""
    from mtl_study.data.importers import import_scans as run_import

    try:
        cohort = run_import(
            labels,
            images_dir,
            out,
            copy=copy,
            workers=workers,
            test_size=test_size,
            n_folds=folds,
            seed=seed,
        )
    except (CohortError, ScanReadError) as err:
        raise _fail(err) from err
    _render(summarize(cohort))


def _render(summary: CohortSummary) -> None:
    head = Table.grid(padding=(0, 2))
    head.add_row("[bold]cohort", f"{summary.name} ({summary.source})")
    head.add_row("[bold]path", summary.root)
    head.add_row("[bold]cases", str(summary.n_cases))
    head.add_row(
        "[bold]scans",
        f"{summary.n_images} images, {summary.n_masks} lung masks, "
        f"{summary.n_lesions} lesion masks",
    )
    head.add_row("[bold]features", str(summary.n_features))
    head.add_row("[bold]content hash", summary.content_hash[:16])
    console.print(head)

    classes = Table(title="classes per task and split")
    for column in ("task", "label", "class", "train", "test", "total"):
        classes.add_column(
            column, justify="right" if column in ("train", "test", "total") else "left"
        )
    for row in summary.classes.itertuples():
        classes.add_row(
            row.task, str(row.label), row.class_name, str(row.train), str(row.test), str(row.total)
        )
    console.print(classes)

    folds = Table(title="splits and folds")
    for column in ("split", "fold", "cases"):
        folds.add_column(column)
    for row in summary.splits.itertuples():
        folds.add_row(str(row.split), "-" if row.fold < 0 else str(row.fold), str(row.cases))
    console.print(folds)

    hospitals = Table(title="hospitals")
    hospitals.add_column("hospital")
    hospitals.add_column("cases", justify="right")
    for name, count in summary.hospitals.items():
        hospitals.add_row(str(name), str(count))
    console.print(hospitals)
