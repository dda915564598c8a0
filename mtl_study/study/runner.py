"""Run a study on Ray Tune: one trial = one variant x seed (x fold), then the transfer stage.

The trial function `execute_plan` is the only place a variant meets the trainer. Each
finished trial leaves its record under `RESULTS/runs/<trial_id>/`; a resumed run skips those
and starts a fresh Tune experiment for the rest, which is simpler and more robust than
restoring Tune's own experiment state (a trial is done iff its record exists).
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mtl_study.study.cluster import connect, loopback_env

loopback_env()

from rich.console import Console  # noqa: E402

from mtl_study.study.grid import TrialPlan, expand, transfer_plans  # noqa: E402
from mtl_study.study.results import (  # noqa: E402
    ResultsDir,
    collect,
    finished_trials,
    prepare,
    write_manifest,
    write_trial_record,
)
from mtl_study.study.spec import Study, StudyError, load_study, study_from_dict  # noqa: E402

#: Where `mtl-study run` writes when `--out` is not given.
DEFAULT_RESULTS_ROOT = Path("mtl-study-results")
#: Record keys derived from the per-task metrics (selection metrics across tasks).
DERIVED = ("mean_auc", "mean_accuracy")


def resolve_study(
    study: str | Path | Study, preset: str | None = None, overrides: tuple[str, ...] = ()
) -> Study:
    """A shipped name, a YAML path or a parsed Study, with preset and overrides applied."""
    if isinstance(study, Study):
        if not preset and not overrides:
            return study
        return study_from_dict(study.raw, source=study.source, preset=preset, overrides=overrides)
    return load_study(study, preset=preset, overrides=overrides)


def default_out(study: Study) -> Path:
    """A fresh folder under ./mtl-study-results/ named after the study and the time."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return DEFAULT_RESULTS_ROOT / f"{study.name}-{stamp}"


def run_study(
    study: str | Path | Study,
    out: str | Path | None = None,
    overrides: tuple[str, ...] | list[str] = (),
    data: str | Path | None = None,
    address: str | None = None,
    restart: bool = False,
    progress: bool = True,
    preset: str | None = None,
    console: Console | None = None,
    report: bool = True,
    dashboard: bool = False,
) -> Path:
    """Run (or resume) a study and return its results directory.

    Args:
        study: Shipped study name, YAML path or parsed `Study`.
        out: Results directory; default a fresh folder under `./mtl-study-results/`.
        overrides: `key.path=value` overrides (see `spec.apply_override`).
        data: Cohort directory replacing the study's cohort.
        address: Ray cluster to join (`auto`, `host:6379`, `ray://host:10001`); None: local.
        restart: Discard what `out` holds and start over (default: resume).
        progress: Show the live trial table.
        preset: Name of a preset of the study (`quick`).
        console: Where tables go (default: stdout).
        report: Write the report and print its main tables at the end.
        dashboard: Start the Ray dashboard (local runtime, bound to 127.0.0.1).

    Raises:
        StudyError: Invalid study, or `out` holds a different study.
    """
    study = resolve_study(study, preset, tuple(overrides))
    console = console or Console()
    results = ResultsDir(Path(out or default_out(study)).resolve())
    previous = prepare(results, study, restart)
    cohort_root = resolve_cohort(study, data)
    main = expand(study)
    transfer = transfer_plans(study, main)
    cohort_hash = ensure_data(study, cohort_root, [*main, *transfer], console, progress)
    write_manifest(results, study, cohort_root, cohort_hash, previous=previous)
    console.print(
        f"[bold]study[/] {study.name}: {len(main) + len(transfer)} trials -> {results.root}"
    )
    runtime = connect(address, dashboard=dashboard)
    if runtime.dashboard_url:
        console.print(f"Ray dashboard: {runtime.dashboard_url}")
    table = _table(study, console, progress)
    try:
        done = finished_trials(results)
        for plan in [*main, *transfer]:
            table.register(
                plan.trial_id, plan.variant, "DONE" if plan.trial_id in done else "PENDING"
            )
        table.start()
        run_plans(study, [p for p in main if p.trial_id not in done], results, cohort_root, table)
        done = finished_trials(results)
        ready = _attach_sources(transfer, done, results)
        run_plans(study, [p for p in ready if p.trial_id not in done], results, cohort_root, table)
    finally:
        table.stop()
        runtime.shutdown()
    collect(results)
    write_manifest(results, study, cohort_root, cohort_hash, finished=True, previous=previous)
    if report:
        _report(results.root, console)
    return results.root


def resolve_cohort(study: Study, data: str | Path | None) -> Path:
    """`--data`, else the study's cohort, else the embedded synthetic default."""
    if data:
        root = Path(data)
    elif study.cohort:
        root = Path(os.path.expandvars(os.path.expanduser(study.cohort)))
        if not root.is_absolute() and study.source and Path(study.source).is_file():
            candidate = Path(study.source).parent / root
            root = candidate if candidate.exists() else root
    else:
        from mtl_study.data.default import default_cohort

        root = default_cohort()
    if not root.is_dir():
        raise StudyError(f"{study.source}: cohort directory {root} does not exist")
    return root.resolve()


def ensure_data(
    study: Study, root: Path, plans: list[TrialPlan], console: Console, progress: bool
) -> str:
    """Preprocess the cohort once, before any trial, when its trials need what it lacks.

    Volumes count as present when every case was preprocessed with the study's segmenter and
    crop shape; features when the cohort has `features.parquet`.

    Returns:
        The cohort's content hash (after preprocessing).
    """
    from mtl_study.data.cohort import load_cohort

    cohort = load_cohort(root)
    inputs = {p.spec["inputs"] for p in plans}
    need_volume = bool(inputs & {"volume", "both"})
    need_features = bool(inputs & {"features", "both"})
    settings = study.preprocess
    missing_features = need_features and cohort.features is None
    missing_volumes = need_volume and not _volumes_current(root, cohort, settings)
    if not (missing_volumes or missing_features):
        return cohort.content_hash
    from mtl_study.preprocess.pipeline import preprocess_cohort

    if (cohort.manifest["image"].fillna("") == "").all():
        what = "volumes" if missing_volumes else "features"
        raise StudyError(f"{study.source}: the trials need {what} but cohort {root} has no images")
    feature_set = settings["feature_set"] if need_features else None
    console.print(
        f"preprocessing cohort {root}: segmenter {settings['segmenter']}, "
        f"crop {settings['crop_shape']}, features {feature_set}"
    )
    summary = preprocess_cohort(
        root,
        segmenter=settings["segmenter"],
        feature_set=feature_set,
        crop_shape=tuple(settings["crop_shape"]),
        workers=settings.get("workers"),
        progress=progress,
    )
    console.print(
        f"preprocessed {len(summary.processed)} cases, skipped {len(summary.skipped)}, "
        f"failed {len(summary.failures)} in {summary.seconds:.0f} s"
    )
    return load_cohort(root).content_hash


def _volumes_current(root: Path, cohort: Any, settings: dict[str, Any]) -> bool:
    """Every case preprocessed with the study's segmenter and crop shape."""
    from mtl_study.preprocess.store import finished_cases, load_info

    cases = set(cohort.manifest["case_id"].astype(str))
    if cases - finished_cases(root):
        return False
    for case_id in cases:
        done = load_info(root, case_id).get("settings") or {}
        if done.get("segmenter") != settings["segmenter"]:
            return False
        if list(done.get("crop_shape") or []) != list(settings["crop_shape"]):
            return False
    return True


def run_plans(
    study: Study,
    plans: list[TrialPlan],
    results: ResultsDir,
    cohort_root: Path,
    table: Any,
    stage_name: str | None = None,
) -> None:
    """Run trial plans as one Tune experiment; record trials that crashed past retries."""
    if not plans:
        return
    from ray import tune

    by_id = {p.trial_id: asdict(p) for p in plans}
    trainable = tune.with_parameters(
        grid_trainable,
        plans=by_id,
        results_root=str(results.root),
        cohort_root=str(cohort_root),
        metric=study.metric,
    )
    trainable = tune.with_resources(trainable, lambda config: _bundle(by_id[config["trial_id"]]))
    name = stage_name or f"{plans[0].stage}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S-%f')}"
    tuner = tune.Tuner(
        trainable,
        param_space={"trial_id": tune.grid_search(list(by_id))},
        tune_config=tune.TuneConfig(
            max_concurrent_trials=study.max_concurrent,
            reuse_actors=True,
            trial_name_creator=lambda t: t.config["trial_id"],
            trial_dirname_creator=lambda t: t.config["trial_id"],
        ),
        run_config=tune_run_config(study, results, name, table),
    )
    grid = tuner.fit()
    done = finished_trials(results)
    for result in grid:
        trial_id = (result.config or {}).get("trial_id")
        if trial_id and result.error is not None and trial_id not in done:
            record_crash(results, TrialPlan(**by_id[trial_id]), result.error)
            table.set_status(trial_id, "ERROR")
    collect(results)


def tune_run_config(study: Study, results: ResultsDir, name: str, table: Any) -> Any:
    """Tune RunConfig shared by run and search: storage, retries, checkpoints, progress."""
    from ray import tune

    return tune.RunConfig(
        name=name,
        storage_path=str(results.ray),
        failure_config=tune.FailureConfig(max_failures=study.max_failures),
        checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        callbacks=[table],
        verbose=0,
    )


def record_crash(results: ResultsDir, plan: TrialPlan, error: BaseException) -> None:
    """Record a trial that raised past its retries as ERROR (re-run on resume)."""
    reason = _reason(error)
    attempts = _read_attempts(results.checkpoint_dir(plan.trial_id))
    history = _load_history(results.checkpoint_dir(plan.trial_id))
    write_trial_record(
        results,
        plan,
        history,
        None,
        status="ERROR",
        error=reason,
        extra={"crashed": True, "attempts": attempts},
    )


def _reason(error: BaseException) -> str:
    """The innermost message of a (Ray-wrapped) exception, on one line."""
    cause = getattr(error, "cause", None) or error.__cause__ or error
    text = f"{type(cause).__name__}: {cause}".strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if len(lines) > 3 else " ".join(lines)


def _bundle(plan: dict[str, Any]) -> Any:
    from ray.tune import PlacementGroupFactory

    res = plan["resources"]
    bundle = {"CPU": float(res.get("cpu", 1)), "GPU": float(res.get("gpu", 0))}
    bundle.update({k: float(v) for k, v in (res.get("custom") or {}).items()})
    return PlacementGroupFactory([bundle])


def _attach_sources(
    plans: list[TrialPlan], done: dict[str, dict[str, Any]], results: ResultsDir
) -> list[TrialPlan]:
    """Fill transfer plans with their source checkpoint; record those whose source failed."""
    ready = []
    for plan in plans:
        info = done.get(plan.source_trial or "")
        checkpoint = (info or {}).get("checkpoint")
        if info and info.get("status") == "TERMINATED" and checkpoint and Path(checkpoint).exists():
            plan.spec["transfer"]["from_checkpoint"] = str(checkpoint)
            ready.append(plan)
        elif plan.trial_id not in done:
            write_trial_record(
                results,
                plan,
                [],
                None,
                status="ERROR",
                error=f"source trial {plan.source_trial} did not finish with a checkpoint",
                extra={"crashed": True},
            )
    return ready


def grid_trainable(
    config: dict[str, Any],
    plans: dict[str, dict[str, Any]],
    results_root: str,
    cohort_root: str,
    metric: str,
) -> None:
    """Ray Tune function trainable of `mtl-study run`: look up the plan and execute it."""

    plan = TrialPlan(**plans[config["trial_id"]])
    execute_plan(plan, ResultsDir(Path(results_root)), Path(cohort_root), tune_reporter(plan))


def tune_reporter(plan: TrialPlan) -> Callable[[dict[str, Any], Path | None], None]:
    """Report an epoch record (and its checkpoint directory) to Ray Tune."""
    from ray import tune

    def report(record: dict[str, Any], checkpoint_dir: Path | None) -> None:
        metrics = {k: v for k, v in record.items() if isinstance(v, int | float | str)}
        metrics["trial_id"] = plan.trial_id
        if checkpoint_dir is not None:
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(str(checkpoint_dir)))
        else:
            tune.report(metrics)

    return report


def execute_plan(
    plan: TrialPlan,
    results: ResultsDir,
    cohort_root: Path,
    report: Callable[[dict[str, Any], Path | None], None] | None = None,
) -> list[dict[str, Any]]:
    """Run one trial through `mtl_study.train.run_trial` and write its record.

    Resumes from the trial's checkpoint directory (restored from Tune's checkpoint on another
    node); a NaN/inf loss ends the trial as ERROR with the reason, without retries; other
    exceptions propagate so Tune retries the trial (`max_failures`).

    Returns:
        The trial's epoch records.
    """
    import torch

    from mtl_study.train.config import TrialSpec
    from mtl_study.train.trainer import NonFiniteLossError
    from mtl_study.train.trial import run_trial

    _limit_threads(plan)
    ckdir = results.checkpoint_dir(plan.trial_id)
    ckdir.mkdir(parents=True, exist_ok=True)
    _restore_tune_checkpoint(ckdir)
    attempts = _read_attempts(ckdir) + 1
    (ckdir / "attempts").write_text(str(attempts), encoding="utf-8")
    history = {int(r["epoch"]): r for r in _load_history(ckdir)}

    def on_epoch(record: dict[str, Any], checkpoint_path: Path | None) -> None:
        record = dict(record)
        add_derived(record)
        history[int(record["epoch"])] = record
        _save_history(ckdir, list(history.values()))
        if report is not None:
            report(record, ckdir if checkpoint_path is not None else None)

    node = node_info()
    status, error, predictions, checkpoint = "TERMINATED", "", None, None
    try:
        output = run_trial(TrialSpec.from_dict(plan.spec), cohort_root, on_epoch, ckdir)
        predictions = output.predictions
        checkpoint = str(output.checkpoint) if output.checkpoint else None
    except NonFiniteLossError as exc:
        status, error = "ERROR", f"NonFiniteLossError: {exc}"
    finally:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    records = [history[e] for e in sorted(history)]
    write_trial_record(
        results,
        plan,
        records,
        predictions,
        status=status,
        error=error,
        extra={**node, "attempts": attempts, "checkpoint": checkpoint},
    )
    if status == "ERROR" and report is not None:
        report({"epoch": len(records), "trial_id": plan.trial_id, "status": "ERROR"}, None)
    return records


def add_derived(record: dict[str, Any]) -> None:
    """Add `mean_auc` and `mean_accuracy` over the tasks present in the record."""
    for name in DERIVED:
        suffix = "_" + name.removeprefix("mean_")
        values = [
            float(v)
            for k, v in record.items()
            if k.endswith(suffix) and k.count("_") == 1 and isinstance(v, int | float)
        ]
        finite = [v for v in values if math.isfinite(v)]
        record[name] = sum(finite) / len(finite) if finite else float("nan")


def node_info() -> dict[str, Any]:
    """Where the trial runs: Ray node id and IP (when inside Ray), host name and pid."""
    info: dict[str, Any] = {"hostname": socket.gethostname(), "pid": os.getpid()}
    try:
        import ray

        if ray.is_initialized():
            info["node_id"] = ray.get_runtime_context().get_node_id()
            info["node_ip"] = ray.util.get_node_ip_address()
    except Exception:  # outside Ray (plain loop, benchmarks): no node to record
        info.setdefault("node_id", "")
    info.setdefault("node_ip", "")
    return info


def _limit_threads(plan: TrialPlan) -> None:
    import torch

    threads = max(1, int(plan.resources.get("cpu", 1) or 1))
    torch.set_num_threads(threads)


def _restore_tune_checkpoint(ckdir: Path) -> None:
    """Copy Tune's latest checkpoint of this trial into `ckdir` when it has none (retry)."""
    with contextlib.suppress(ImportError, RuntimeError):
        from ray import tune

        checkpoint = tune.get_checkpoint()
        if checkpoint is not None and not any(ckdir.glob("checkpoint*")):
            with checkpoint.as_directory() as folder:
                shutil.copytree(folder, ckdir, dirs_exist_ok=True)


def _read_attempts(ckdir: Path) -> int:
    path = ckdir / "attempts"
    return int(path.read_text(encoding="utf-8")) if path.exists() else 0


def _load_history(ckdir: Path) -> list[dict[str, Any]]:
    path = ckdir / "history.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def _save_history(ckdir: Path, records: list[dict[str, Any]]) -> None:
    tmp = ckdir / ".history.json.tmp"
    tmp.write_text(json.dumps(records, default=_nan_safe), encoding="utf-8")
    os.replace(tmp, ckdir / "history.json")


def _nan_safe(value: Any) -> Any:
    return float(value) if hasattr(value, "__float__") else str(value)


def _table(study: Study, console: Console, progress: bool) -> Any:
    from mtl_study.study.progress import TrialTable

    return TrialTable(study.metric, console=console, live=progress)


def _report(root: Path, console: Console) -> None:
    """Write the report and print the main tables (mtl_study.report.generate)."""
    from mtl_study.report import generate

    started = time.perf_counter()
    path = generate(root, console=console)
    console.print(f"report: {path} ({time.perf_counter() - started:.1f} s)")
