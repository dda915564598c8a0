"""A cohort through `case.process_case` on Dask: resumable, failure-tolerant, with progress.

Each case is one Dask task. Finished cases (same settings) are skipped, so a killed run
resumes where it stopped. At the end the per-case records are gathered into
`features.parquet`, `preprocessed/segmentation.csv` and `preprocessed/failures.csv`, and the
settings go into `cohort.yaml` under `preprocess` so the trainer knows the crop shape.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from mtl_study.data.cohort import Cohort, load_cohort, save_cohort
from mtl_study.preprocess import store
from mtl_study.preprocess.case import (
    STAGES,
    CaseInput,
    CaseResult,
    Settings,
    process_case,
)
from mtl_study.preprocess.crop import DEFAULT_CROP_SHAPE
from mtl_study.preprocess.metrics import METRICS
from mtl_study.preprocess.radiomics import get_feature_set
from mtl_study.preprocess.segmenters import SEGMENTERS

#: Dask event topic on which workers announce the stage each case enters.
STAGE_TOPIC = "mtl-study-preprocess-stage"

FAILURE_COLUMNS: tuple[str, ...] = ("case_id", "stage", "error")
SEGMENTATION_COLUMNS: tuple[str, ...] = ("case_id", "method", *METRICS)


@dataclass
class PreprocessSummary:
    """What one `preprocess_cohort` call did.

    Attributes:
        total: Cases in the manifest.
        processed: Cases computed in this run.
        skipped: Cases already finished with the same settings.
        failures: One row per failed case: case_id, stage, error.
        stage_seconds: Mean seconds per stage over the cases computed in this run.
        segmentation: Mean and std of each metric per method (empty without references).
        seconds: Wall time of the run.
    """

    total: int
    processed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FAILURE_COLUMNS))
    stage_seconds: dict[str, float] = field(default_factory=dict)
    segmentation: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: float = 0.0

    @property
    def finished(self) -> int:
        """Cases complete on disk after the run."""
        return len(self.processed) + len(self.skipped)


def _worker_task(root: str, case: CaseInput, settings: Settings) -> CaseResult:
    """Dask entry point: process one case, announcing stages on `STAGE_TOPIC`."""
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    try:
        from distributed import get_worker

        worker = get_worker()

        def report(stage: str) -> None:
            worker.log_event(STAGE_TOPIC, {"case_id": case.case_id, "stage": stage})

    except ValueError:
        report = None
    return process_case(root, case, settings, report=report)


@contextmanager
def dask_client(workers: int | None = None, address: str | None = None) -> Iterator[object]:
    """A client of `address`, or of a loopback `LocalCluster` with `workers` processes.

    Args:
        workers: Worker processes (one thread each); default: the machine's cores.
        address: `tcp://host:port` of a running scheduler; `workers` is then ignored.
    """
    from distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # Loopback only, on free ports: several clusters may run on one machine.
            dashboard_address="127.0.0.1:0",
            worker_dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _inputs(cohort: Cohort) -> list[CaseInput]:
    return [
        CaseInput(cid, cohort.image_path(cid), cohort.mask_path(cid), cohort.lesion_path(cid))
        for cid in cohort.case_ids
    ]


def _is_current(root: Path, case_id: str, settings: Settings) -> bool:
    """Finished with the same settings (an older crop shape or feature set is stale)."""
    try:
        return store.load_info(root, case_id).get("settings") == settings.as_dict()
    except (FileNotFoundError, ValueError):
        return False


def preprocess_cohort(
    root: str | os.PathLike[str],
    segmenter: str = "refined",
    feature_set: str | None = "covid-mtl-375",
    crop_shape: Sequence[int] = DEFAULT_CROP_SHAPE,
    workers: int | None = None,
    dask_address: str | None = None,
    progress: bool = True,
) -> PreprocessSummary:
    """Segment, crop and extract features for every case of a cohort on Dask.

    Args:
        root: Cohort directory (docs/contracts.md, section 1).
        segmenter: Registered segmenter whose mask is stored and cropped.
        feature_set: Registered feature set, or None to skip radiomics.
        crop_shape: `(D, H, W)` of the stored crops.
        workers: LocalCluster size (default: all cores).
        dask_address: Use this running scheduler instead of a LocalCluster.
        progress: Show a rich progress bar with per-stage counts.

    Returns:
        What was computed, skipped and failed, stage timings and the segmentation summary.

    Raises:
        UnknownNameError: Unknown segmenter or feature set.
        CohortError: The cohort directory is invalid.
    """
    start = time.perf_counter()
    SEGMENTERS.get(segmenter)
    if feature_set is not None:
        get_feature_set(feature_set)
    shape = tuple(int(s) for s in crop_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"crop shape must be three positive sizes (D, H, W), got {crop_shape}")
    settings = Settings(segmenter, feature_set, shape)  # type: ignore[arg-type]
    # A missing scan is one case's read failure, not an invalid cohort.
    cohort = load_cohort(root, check_paths=False)
    root = cohort.root
    store.remove_partial(root)
    cases = _inputs(cohort)
    summary = PreprocessSummary(total=len(cases))
    todo = []
    for case in cases:
        if _is_current(root, case.case_id, settings):
            summary.skipped.append(case.case_id)
        else:
            todo.append(case)
    results: list[CaseResult] = []
    if todo:
        results = _run(root, todo, settings, workers, dask_address, progress, len(cases))
    summary.processed = [r.case_id for r in results if r.ok]
    failures = [
        {"case_id": r.case_id, "stage": r.stage, "error": r.error} for r in results if not r.ok
    ]
    summary.failures = pd.DataFrame(failures, columns=list(FAILURE_COLUMNS))
    stage_times = pd.DataFrame([r.timings for r in results if r.ok], columns=list(STAGES))
    summary.stage_seconds = {s: float(v) for s, v in stage_times.mean().dropna().items()}
    _write_outputs(cohort, settings, summary)
    summary.seconds = time.perf_counter() - start
    return summary


def _run(
    root: Path,
    todo: list[CaseInput],
    settings: Settings,
    workers: int | None,
    address: str | None,
    progress: bool,
    total: int,
) -> list[CaseResult]:
    """Submit one task per case and collect results as they finish."""
    from distributed import as_completed

    stage_of: dict[str, str] = {}
    done: set[str] = set()
    results: list[CaseResult] = []
    bar = _Progress(total - len(todo), total) if progress else None

    def on_stage(event: tuple[float, dict[str, str]]) -> None:
        """Runs on the client's event-loop thread: refresh the stage counts live."""
        if event[1]["case_id"] not in done:
            stage_of[event[1]["case_id"]] = event[1]["stage"]
            if bar is not None:
                bar.update(list(results), dict(stage_of))

    with dask_client(workers, address) as client, bar or nullcontext():
        client.subscribe_topic(STAGE_TOPIC, on_stage)
        futures = {
            client.submit(_worker_task, str(root), case, settings, pure=False): case
            for case in todo
        }
        for future in as_completed(futures):
            case = futures[future]
            try:
                result = future.result()
            except Exception as err:  # worker died (memory, signal): the case failed
                error = f"{type(err).__name__}: {err}"
                result = CaseResult(case.case_id, ok=False, stage="worker", error=error)
            done.add(case.case_id)
            stage_of.pop(case.case_id, None)
            results.append(result)
            if bar is not None:
                bar.update(list(results), dict(stage_of))
        client.unsubscribe_topic(STAGE_TOPIC)
    return results


class _Progress:
    """Rich progress bar: finished/failed counts and how many cases are in each stage."""

    def __init__(self, already: int, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            "{task.fields[stages]}",
        )
        self._task = self._progress.add_task(
            "preprocess", total=total, completed=already, stages=f"skipped {already}"
        )
        self._already = already

    def __enter__(self) -> _Progress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def update(self, results: list[CaseResult], stage_of: dict[str, str]) -> None:
        """Refresh after one more case finished."""
        failed = Counter(r.stage for r in results if not r.ok)
        running = Counter(stage_of.values())
        parts = [f"skipped {self._already}", f"done {sum(r.ok for r in results)}"]
        parts += [f"{s} {running[s]}" for s in STAGES if running[s]]
        if failed:
            parts.append("failed " + ", ".join(f"{s} {n}" for s, n in failed.items()))
        self._progress.update(
            self._task, completed=self._already + len(results), stages=" | ".join(parts)
        )


def _write_outputs(cohort: Cohort, settings: Settings, summary: PreprocessSummary) -> None:
    """failures.csv, segmentation.csv, features.parquet and the `preprocess` descriptor key."""
    root = cohort.root
    folder = store.preprocessed_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    summary.failures.to_csv(folder / store.FAILURES_FILE, index=False)
    finished = store.finished_cases(root)
    infos = {
        cid: store.load_info(root, cid)
        for cid in cohort.case_ids
        if cid in finished and _is_current(root, cid, settings)
    }
    rows = [{"case_id": cid, **m} for cid, info in infos.items() for m in info["segmentation"]]
    segmentation = pd.DataFrame(rows, columns=list(SEGMENTATION_COLUMNS))
    segmentation.to_csv(folder / store.SEGMENTATION_FILE, index=False)
    if not segmentation.empty:
        stats = segmentation.groupby("method")[list(METRICS)].agg(["mean", "std"])
        summary.segmentation = stats
    features = cohort.features
    if settings.feature_set is not None:
        columns = list(get_feature_set(settings.feature_set).columns)
        table = pd.DataFrame(
            [[info["features"][c] for c in columns] for info in infos.values()],
            columns=columns,
        )
        table.insert(0, "case_id", list(infos))
        features = table
    meta = {k: v for k, v in cohort.meta.items() if k not in ("schema_version", "content_hash")}
    meta["preprocess"] = {
        **settings.as_dict(),
        "spacing": [1.0, 1.0, 1.0],
        "finished": len(infos),
        "failed": len(summary.failures),
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    save_cohort(root, cohort.manifest, features=features, meta=meta, check_paths=False)
