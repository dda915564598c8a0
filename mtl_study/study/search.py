"""Optuna searches through Ray Tune's OptunaSearch, persisted in an Optuna storage.

One Optuna trial = one configuration, scored by the mean cross-validation metric over the
training split's folds (trained one after another inside the trial). The test split is
touched once, by a `final` trial of the best configuration. The Optuna study lives in
`RESULTS/optuna.db` (any SQLAlchemy URL may replace it), so a search resumes where it
stopped: finished Optuna trials are kept, trials a crash left RUNNING are marked FAIL and
their parameters re-queued.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

from mtl_study.study.cluster import connect, loopback_env

loopback_env()

import optuna  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from rich.console import Console  # noqa: E402

from mtl_study.study._names import choice_error  # noqa: E402
from mtl_study.study.grid import TrialPlan, plan_for, variant_of_block  # noqa: E402
from mtl_study.study.results import ResultsDir, collect, prepare, write_manifest  # noqa: E402
from mtl_study.study.runner import (  # noqa: E402
    _report,
    _table,
    default_out,
    ensure_data,
    execute_plan,
    resolve_cohort,
    resolve_study,
    run_plans,
    tune_run_config,
)
from mtl_study.study.spec import AXES, REPO_ROOT, Study, StudyError  # noqa: E402

SPACES_DIR = REPO_ROOT / "search_spaces"
SAMPLERS: dict[str, type[optuna.samplers.BaseSampler]] = {
    "tpe": optuna.samplers.TPESampler,
    "random": optuna.samplers.RandomSampler,
    "cmaes": optuna.samplers.CmaEsSampler,
    "qmc": optuna.samplers.QMCSampler,
}
PRUNERS: tuple[str, ...] = ("none", "asha", "median")
PARAM_TYPES: tuple[str, ...] = ("int", "float", "categorical")
#: Metric every search trial reports: mean over folds of the study's metric.
CV_METRIC = "cv_metric"


def shipped_spaces() -> list[str]:
    """Names of the search spaces in `search_spaces/`."""
    return sorted(p.stem for p in SPACES_DIR.glob("*.yaml"))


def load_space(name_or_path: str | Path) -> dict[str, Any]:
    """Read a search space: `params` (name -> distribution) and `base` (fixed axis values).

    Raises:
        StudyError: Unknown space, parameter type or axis, naming the file.
    """
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = SPACES_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise StudyError(choice_error("--space", str(name_or_path), shipped_spaces()))
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    params = data.get("params")
    if not isinstance(params, dict) or not params:
        raise StudyError(f"{path}: a search space needs a non-empty `params` mapping")
    for name, dist in params.items():
        if name not in AXES and not name.startswith(("train.", "model_options.", "loss_options.")):
            raise StudyError(
                choice_error(f"{path}: params", name, [*AXES, "train.*", "model_options.*"])
            )
        if not isinstance(dist, dict) or dist.get("type") not in PARAM_TYPES:
            raise StudyError(
                f"{path}: params.{name}.type must be one of {list(PARAM_TYPES)}, got {dist!r}"
            )
        if dist["type"] == "categorical" and not dist.get("choices"):
            raise StudyError(f"{path}: params.{name} needs `choices`")
        if dist["type"] != "categorical" and not ("low" in dist and "high" in dist):
            raise StudyError(f"{path}: params.{name} needs `low` and `high`")
    base = data.get("base") or {}
    for key in base:
        if key not in AXES:
            raise StudyError(choice_error(f"{path}: base", key, AXES))
    return {"name": data.get("name", path.stem), "params": params, "base": base, "path": str(path)}


def distributions(space: dict[str, Any]) -> dict[str, optuna.distributions.BaseDistribution]:
    """Optuna distributions of a (merged) space."""
    out: dict[str, optuna.distributions.BaseDistribution] = {}
    for name, d in space["params"].items():
        if d["type"] == "int":
            out[name] = optuna.distributions.IntDistribution(
                int(d["low"]), int(d["high"]), log=bool(d.get("log", False))
            )
        elif d["type"] == "float":
            out[name] = optuna.distributions.FloatDistribution(
                float(d["low"]), float(d["high"]), log=bool(d.get("log", False))
            )
        else:
            out[name] = optuna.distributions.CategoricalDistribution(list(d["choices"]))
    return out


def merge_spaces(spaces: list[dict[str, Any]]) -> dict[str, Any]:
    """One space from several (`--space dirichlet_n --space max_shift`)."""
    merged: dict[str, Any] = {"name": "+".join(s["name"] for s in spaces), "params": {}, "base": {}}
    for space in spaces:
        merged["params"].update(space["params"])
        merged["base"].update(space["base"])
    return merged


def storage_url(results: ResultsDir, storage: str | None) -> str:
    """The Optuna storage URL; warns when the SQLite file lies on a network filesystem."""
    if storage:
        return storage
    path = results.root / "optuna.db"
    if _network_fs(path.parent):
        warnings.warn(
            f"{path}: SQLite on a network filesystem can corrupt or lock; pass --storage "
            "with a PostgreSQL/MySQL URL or put --out on a local disk",
            stacklevel=2,
        )
    return f"sqlite:///{path}"


def _network_fs(folder: Path) -> bool:
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    best, fstype = "", ""
    for line in mounts:
        parts = line.split()
        if (
            len(parts) > 2
            and str(folder.resolve()).startswith(parts[1])
            and len(parts[1]) > len(best)
        ):
            best, fstype = parts[1], parts[2]
    return fstype in {"nfs", "nfs4", "cifs", "smbfs", "fuse.sshfs", "lustre", "gpfs", "9p"}


def recover_stale(study: optuna.Study) -> int:
    """Mark trials a crash left RUNNING as FAIL and re-queue their parameters.

    Returns:
        How many trials were recovered.
    """
    stale = [
        t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.RUNNING
    ]
    for trial in stale:
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(trial.params, skip_if_exists=False)
    return len(stale)


def numbered_optuna_search(budget: int, **kwargs: Any) -> Any:
    """Ray's OptunaSearch that passes the Optuna trial number to the trial (it keys the
    per-fold records) and tells Optuna PRUNED, not COMPLETE, for trials a scheduler stopped
    before `budget` iterations (their running value is not a full CV metric)."""
    from ray.tune.search.optuna import OptunaSearch

    class NumberedOptunaSearch(OptunaSearch):
        def suggest(self, trial_id: str) -> dict | None:
            config = super().suggest(trial_id)
            if config is not None:
                config = dict(config)
                config["optuna_number"] = self._ot_trials[trial_id].number
            return config

        def on_trial_complete(
            self, trial_id: str, result: dict | None = None, error: bool = False
        ) -> None:
            stopped = result and not error and result.get("training_iteration", 0) < budget
            if stopped and trial_id not in self._completed_trials:
                self._ot_study.tell(self._ot_trials[trial_id], state=optuna.trial.TrialState.PRUNED)
                self._completed_trials.add(trial_id)
                return
            super().on_trial_complete(trial_id, result, error)

    return NumberedOptunaSearch(**kwargs)


def run_search(
    study: str | Path | Study,
    spaces: list[str],
    n_trials: int = 20,
    out: str | Path | None = None,
    sampler: str = "tpe",
    pruner: str = "none",
    storage: str | None = None,
    overrides: tuple[str, ...] | list[str] = (),
    data: str | Path | None = None,
    address: str | None = None,
    restart: bool = False,
    progress: bool = True,
    preset: str | None = None,
    console: Console | None = None,
    final: bool = True,
    report: bool = True,
    seed: int = 0,
) -> Path:
    """Search parameters of a study's first grid variant by cross-validation; test the best.

    Args:
        study: Shipped study name, YAML path or parsed `Study`.
        spaces: Search space names or YAML paths (merged).
        n_trials: Total Optuna trials wanted (a resumed search runs only the missing ones).
        out: Results directory (default: fresh folder under `./mtl-study-results/`).
        sampler: Optuna sampler (`tpe`, `random`, `cmaes`, `qmc`).
        pruner: `none`, `asha` (Tune ASHA) or `median` (Tune median stopping).
        storage: Optuna storage URL (default: SQLite `RESULTS/optuna.db`).
        overrides, data, address, restart, progress, preset, console, report: as `run_study`.
        final: Evaluate the best configuration once on the test split (stage `final`).
        seed: Sampler seed.

    Raises:
        StudyError: Invalid study, space, sampler or pruner, or `out` holds another run.
    """
    if sampler not in SAMPLERS:
        raise StudyError(choice_error("--sampler", sampler, SAMPLERS))
    if pruner not in PRUNERS:
        raise StudyError(choice_error("--pruner", pruner, PRUNERS))
    study = resolve_study(study, preset, tuple(overrides))
    space = merge_spaces([load_space(s) for s in spaces])
    console = console or Console()
    results = ResultsDir(Path(out or default_out(study)).resolve())
    keyed = study.replace(search=_space_record(space, sampler, pruner))
    previous = prepare(results, keyed, restart, kind="search")
    cohort_root = resolve_cohort(study, data)
    base = {**variant_of_block(study.grid[0]), **space["base"]}
    probe = _fold_plans(study, base, number=0)
    cohort_hash = ensure_data(study, cohort_root, probe, console, progress)
    write_manifest(results, keyed, cohort_root, cohort_hash, kind="search", previous=previous)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage_url(results, storage)
    name = f"{study.name}:{space['name']}"
    ot_storage = optuna.storages.RDBStorage(url)
    ot_study = optuna.create_study(
        study_name=name,
        storage=ot_storage,
        direction="maximize" if study.mode == "max" else "minimize",
        load_if_exists=True,
    )
    recovered = recover_stale(ot_study)
    counted = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    finished = len(ot_study.get_trials(deepcopy=False, states=counted))
    remaining = max(0, n_trials - finished)
    console.print(
        f"[bold]search[/] {name}: {finished} finished, {recovered} recovered, "
        f"{remaining} to run -> {results.root}"
    )
    runtime = connect(address)
    table = _table(study, console, progress)
    table.metric = CV_METRIC
    try:
        table.start()
        if remaining:
            _tune_search(
                study,
                space,
                base,
                results,
                cohort_root,
                ot_storage,
                name,
                sampler,
                pruner,
                remaining,
                table,
                seed,
            )
        write_search_table(results, ot_study, space, study)
        if final and ot_study.best_trials:
            best = {**base, **_as_variant(ot_study.best_trial.params)}
            plan = plan_for(study, best, "final", study.seeds[0], -1, _label(base, best, "final"))
            plan.trial_id = f"final-{ot_study.best_trial.number:04d}-s{study.seeds[0]}"
            table.register(plan.trial_id, plan.variant)
            for stale in results.runs.glob("final-*"):  # an earlier best, before this resume
                if stale.name != plan.trial_id:
                    shutil.rmtree(stale)
            done = (results.run_dir(plan.trial_id) / "done.json").exists()
            run_plans(study, [] if done else [plan], results, cohort_root, table)
    finally:
        table.stop()
        runtime.shutdown()
    collect(results)
    write_manifest(
        results,
        keyed,
        cohort_root,
        cohort_hash,
        kind="search",
        finished=True,
        previous=previous,
        extra={"optuna_storage": url, "optuna_study": name},
    )
    if report:
        _report(results.root, console)
    return results.root


def _space_record(space: dict[str, Any], sampler: str, pruner: str) -> dict[str, Any]:
    return {
        "space": space["name"],
        "params": space["params"],
        "base": space["base"],
        "sampler": sampler,
        "pruner": pruner,
    }


def _tune_search(
    study: Study,
    space: dict[str, Any],
    base: dict[str, Any],
    results: ResultsDir,
    cohort_root: Path,
    ot_storage: Any,
    name: str,
    sampler: str,
    pruner: str,
    remaining: int,
    table: Any,
    seed: int,
) -> None:
    from datetime import UTC, datetime

    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, MedianStoppingRule

    mode = study.mode
    budget = int(study.train.get("epochs", 80)) * study.folds
    searcher = numbered_optuna_search(
        budget,
        space=distributions(space),
        metric=CV_METRIC,
        mode=mode,
        sampler=SAMPLERS[sampler](seed=seed),
        study_name=name,
        storage=ot_storage,
    )
    scheduler = None
    if pruner == "asha":
        scheduler = ASHAScheduler(
            max_t=budget, grace_period=max(1, budget // 8), reduction_factor=2
        )
    elif pruner == "median":
        scheduler = MedianStoppingRule(
            time_attr="training_iteration", grace_period=max(1, budget // 2), min_samples_required=3
        )
    trainable = tune.with_parameters(
        search_trainable,
        study=study,
        base=base,
        params=list(space["params"]),
        results_root=str(results.root),
        cohort_root=str(cohort_root),
    )
    resources = {
        "CPU": float(study.resources.get("cpu", 1)),
        "GPU": float(study.resources.get("gpu", 0)),
    }
    resources.update({k: float(v) for k, v in (study.resources.get("custom") or {}).items()})
    tuner = tune.Tuner(
        tune.with_resources(trainable, resources),
        tune_config=tune.TuneConfig(
            search_alg=searcher,
            scheduler=scheduler,
            num_samples=remaining,
            metric=CV_METRIC,
            mode=mode,
            max_concurrent_trials=study.max_concurrent,
            trial_name_creator=lambda t: f"search-{t.config.get('optuna_number', t.trial_id)}",
            trial_dirname_creator=lambda t: f"search-{t.config.get('optuna_number', t.trial_id)}",
        ),
        run_config=tune_run_config(
            study, results, f"search-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S-%f')}", table
        ),
    )
    tuner.fit()


def search_trainable(
    config: dict[str, Any],
    study: Study,
    base: dict[str, Any],
    params: list[str],
    results_root: str,
    cohort_root: str,
) -> None:
    """Ray Tune trainable of a search: train each fold in turn, report the running CV metric.

    `cv_metric` at each report is the mean over folds of the metric, taking the last epoch of
    folds already trained and the current epoch of the fold in training; after the last fold
    it is the cross-validation metric Optuna optimises.
    """
    from ray import tune

    number = int(config["optuna_number"])
    variant = {**base, **_as_variant({p: config[p] for p in params})}
    results = ResultsDir(Path(results_root))
    finals: list[float] = []
    plans = _fold_plans(study, variant, number)
    for plan in plans:

        def report(
            record: dict[str, Any], _checkpoint: Path | None, plan: TrialPlan = plan
        ) -> None:
            value = _value(record.get(study.metric))
            cv = _mean([*finals, value])
            tune.report(
                {
                    CV_METRIC: cv,
                    "fold": plan.fold,
                    "epoch": record.get("epoch", 0),
                    "trial_id": f"search-{number:04d}",
                    study.metric: value,
                }
            )

        done = results.run_dir(plan.trial_id) / "done.json"
        if done.exists():
            records = pd.read_parquet(done.with_name("history.parquet")).to_dict("records")
        else:
            records = execute_plan(plan, results, Path(cohort_root), report)
        finals.append(_value(records[-1].get(study.metric)) if records else float("nan"))
        if json.loads(done.read_text(encoding="utf-8")).get("status") == "ERROR":
            tune.report(
                {
                    CV_METRIC: float("nan"),
                    "fold": plan.fold,
                    "status": "ERROR",
                    "trial_id": f"search-{number:04d}",
                }
            )
            break


def _fold_plans(study: Study, variant: dict[str, Any], number: int) -> list[TrialPlan]:
    label = _label({}, variant, "search")
    plans = []
    for fold in range(study.folds):
        plan = plan_for(study, variant, "search", study.seeds[0], fold, label)
        plan.trial_id = f"search-{number:04d}-s{study.seeds[0]}-f{fold}"
        plans.append(plan)
    return plans


def _as_variant(params: dict[str, Any]) -> dict[str, Any]:
    """Searched parameters as a grid variant (`train.x`, `model_options.x` are nested)."""
    variant: dict[str, Any] = {}
    for name, value in params.items():
        if "." in name:
            group, key = name.split(".", 1)
            variant.setdefault(group, {})[key] = value
        else:
            variant[name] = value
    return variant


def _label(base: dict[str, Any], variant: dict[str, Any], stage: str) -> str:
    parts = [str(variant.get("model", base.get("model", stage)))]
    for key in AXES:
        if key != "model" and key in variant and not isinstance(variant[key], list | dict):
            parts.append(f"{key}={variant[key]}")
    return " ".join(parts)


def _value(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else float("nan")


def write_search_table(
    results: ResultsDir, ot_study: optuna.Study, space: dict[str, Any], study: Study
) -> pd.DataFrame:
    """search.parquet: one row per Optuna trial (docs/contracts.md section 5)."""
    rows = []
    for trial in ot_study.get_trials(deepcopy=False):
        row = {
            "search": space["name"],
            "number": trial.number,
            "state": trial.state.name,
            "value": trial.value if trial.value is not None else float("nan"),
            "metric": study.metric,
            "direction": "maximize" if study.mode == "max" else "minimize",
        }
        for name in space["params"]:
            row[f"param_{name}"] = trial.params.get(name)
        rows.append(row)
    frame = pd.DataFrame(rows)
    tmp = results.search.with_name(".search.parquet.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, results.search)
    return frame
