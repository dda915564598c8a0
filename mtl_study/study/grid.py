"""Grid expansion: a study's variant blocks become trial plans (variant x seed x fold).

A trial plan is everything Ray Tune needs for one trial: a stable id (resume keys on it),
the variant's columns for `trials.parquet`, the `TrialSpec` mapping and the resources.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from mtl_study.data.schema import Inputs
from mtl_study.study.spec import AXES, EvaluateOn, Study, as_list, task_options

#: Axis -> (which options mapping, option name) it sets when the model or loss accepts it.
AXIS_OPTIONS: dict[str, tuple[str, str]] = {
    "shift3d": ("model_options", "shift3d"),
    "max_shift": ("model_options", "max_shift"),
    "dirichlet_n": ("loss_options", "n"),
}
#: Stages of `trials.parquet` (docs/contracts.md section 5).
STAGES: tuple[str, ...] = ("main", "transfer", "search", "final")


@dataclass
class TrialPlan:
    """One trial to run: id, stage, variant columns, TrialSpec mapping and resources."""

    trial_id: str
    variant: str
    stage: str
    columns: dict[str, Any]
    spec: dict[str, Any]
    resources: dict[str, Any]
    source_trial: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def fold(self) -> int:
        return int(self.columns["fold"])


def expand(study: Study) -> list[TrialPlan]:
    """Main-stage trial plans of a study, in grid order (variant, then seed, then fold)."""
    variants = _variants(study)
    labels = _labels(variants)
    plans: list[TrialPlan] = []
    folds = list(range(study.folds)) if study.evaluate == EvaluateOn.CV else [-1]
    for variant, label in zip(variants, labels, strict=True):
        for seed in study.seeds:
            for fold in folds:
                plans.append(_plan(study, variant, label, "main", seed, fold))
    _check_unique(plans)
    return plans


def transfer_plans(study: Study, main: list[TrialPlan]) -> list[TrialPlan]:
    """Second-stage plans: each selected two-task main trial continued on new tasks.

    The checkpoint path is filled in by the runner once the source trial has finished.
    """
    if not study.transfer:
        return []
    selector = study.transfer["source"]
    plans = []
    for source in main:
        if source.stage != "main" or not _matches(source.columns, selector):
            continue
        for keep in as_list(study.transfer["keep_shift3d"]):
            spec = json.loads(json.dumps(source.spec))
            spec["tasks"] = list(study.transfer["tasks"])
            spec["loss"] = "mean"
            spec["loss_options"] = {}
            spec["train"]["epochs"] = int(study.transfer["epochs"])
            spec["transfer"] = {"from_checkpoint": "", "keep_shift3d": bool(keep)}
            columns = dict(source.columns)
            mode = "keep" if keep else "remove"
            columns.update(
                tasks=",".join(spec["tasks"]),
                transfer=mode,
                loss="mean",
                dirichlet_n=float("nan"),
            )
            variant = f"{source.variant} transfer={mode}"
            trial_id = f"transfer-{mode}-{source.trial_id.removeprefix('main-')}"
            plans.append(
                TrialPlan(
                    trial_id=trial_id,
                    variant=variant,
                    stage="transfer",
                    columns=columns,
                    spec=spec,
                    resources=source.resources,
                    source_trial=source.trial_id,
                )
            )
    return plans


def plan_for(
    study: Study, variant: dict[str, Any], stage: str, seed: int, fold: int, label: str
) -> TrialPlan:
    """One plan outside the grid (search and final stages build theirs with it)."""
    return _plan(study, variant, label, stage, seed, fold)


def variant_of_block(block: dict[str, Any]) -> dict[str, Any]:
    """The first variant of a grid block (the base configuration a search varies)."""
    return next(iter(_block_variants(block)))


def _variants(study: Study) -> list[dict[str, Any]]:
    out = []
    for block in study.grid:
        out.extend(_block_variants(block))
    return out


def _block_variants(block: dict[str, Any]) -> list[dict[str, Any]]:
    axes = [a for a in AXES if a in block]
    options = [task_options(block[a]) if a == "tasks" else as_list(block[a]) for a in axes]
    variants = []
    for combo in itertools.product(*options):
        variant = dict(zip(axes, combo, strict=True))
        variant["model_options"] = dict(block.get("model_options") or {})
        variant["loss_options"] = dict(block.get("loss_options") or {})
        for key in ("resources", "train"):
            if key in block:
                variant[key] = dict(block[key])
        if "name" in block:
            variant["name"] = block["name"]
        variants.append(variant)
    return variants


def _labels(variants: list[dict[str, Any]]) -> list[str]:
    """Readable variant names: the model (or block name) plus every axis that varies."""
    varying = [
        a
        for a in AXES
        if a != "model" and len({json.dumps(v.get(a), sort_keys=True) for v in variants}) > 1
    ]
    labels = []
    for v in variants:
        parts = [str(v.get("name") or v["model"])]
        for axis in varying:
            if axis in v:
                parts.append(f"{axis}={_short(v[axis])}")
        labels.append(" ".join(parts))
    return labels


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return "+".join(str(x) for x in value)
    return str(value)


def _plan(
    study: Study, variant: dict[str, Any], label: str, stage: str, seed: int, fold: int
) -> TrialPlan:
    model = variant["model"]
    loss = variant.get("loss", "mean")
    tasks = list(variant.get("tasks") or ["ct", "nat"])
    inputs = str(variant.get("inputs") or study.inputs)
    if "afnn" in variant and inputs != Inputs.FEATURES.value:
        inputs = Inputs.BOTH.value if variant["afnn"] else Inputs.VOLUME.value
    model_options = dict(variant.get("model_options") or {})
    loss_options = dict(variant.get("loss_options") or {})
    targets = {"model_options": model_options, "loss_options": loss_options}
    for axis, (where, option) in AXIS_OPTIONS.items():
        if axis in variant and _accepts(where, model if where == "model_options" else loss, option):
            targets[where][option] = variant[axis]
    evaluate = "validation" if fold >= 0 else "test"
    spec = {
        "model": model,
        "model_options": model_options,
        "loss": loss,
        "loss_options": loss_options,
        "tasks": tasks,
        "inputs": inputs,
        "seed": int(seed),
        "fold": int(fold) if fold >= 0 else None,
        "evaluate": evaluate,
        "train": {**study.train, **(variant.get("train") or {})},
        "transfer": None,
    }
    shift3d = bool(model_options.get("shift3d", variant.get("shift3d", _default(model, "shift3d"))))
    columns = {
        "model": model,
        "loss": loss,
        "shift3d": shift3d,
        "afnn": inputs in (Inputs.BOTH.value, Inputs.FEATURES.value)
        and model not in ("random_forest", "lightgbm"),
        "dirichlet_n": float(loss_options.get("n", _default(loss, "n", math.nan, "loss_options")))
        if loss == "random_weighted"
        else float("nan"),
        "max_shift": float(model_options.get("max_shift", _default(model, "max_shift", math.nan)))
        if shift3d
        else float("nan"),
        "tasks": ",".join(tasks),
        "inputs": inputs,
        "transfer": "",
        "seed": int(seed),
        "fold": int(fold),
        "split": evaluate,
    }
    resources = dict(study.resources)
    resources.update(variant.get("resources") or {})
    trial_id = f"{stage}-{_slug(label)}-s{seed}" + (f"-f{fold}" if fold >= 0 else "")
    return TrialPlan(trial_id, label, stage, columns, spec, resources)


def _default(name: str, option: str, fallback: Any = None, where: str = "model_options") -> Any:
    """Registry default of `option` for a model (or loss); shiftnet3d always shifts."""
    from mtl_study import losses, models

    if where == "model_options" and option == "shift3d" and fallback is None:
        fallback = name == "shiftnet3d"
    registry = models if where == "model_options" else losses
    try:
        entry = registry.options(name).get(option)
    except (KeyError, ValueError):
        return fallback
    return fallback if entry is None or entry.default is None else entry.default


def _accepts(where: str, name: str, option: str) -> bool:
    """Whether the model (or loss) `name` takes `option`, per its registry."""
    from mtl_study import losses, models

    registry = models if where == "model_options" else losses
    options = getattr(registry, "options", None)
    if options is None:
        return True
    try:
        return option in options(name)
    except (KeyError, ValueError):
        return False


def _matches(columns: dict[str, Any], selector: dict[str, Any]) -> bool:
    for key, want in selector.items():
        have = columns.get(key)
        if key == "tasks":
            want = ",".join(task_options(want)[0])
        if have != want:
            return False
    return True


def _slug(label: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.+]+", "-", label.replace("=", "_")).strip("-")
    if len(slug) > 80:
        digest = hashlib.sha1(slug.encode()).hexdigest()[:8]
        slug = f"{slug[:70]}-{digest}"
    return slug


def _check_unique(plans: list[TrialPlan]) -> None:
    seen: dict[str, int] = {}
    for plan in plans:
        seen[plan.trial_id] = seen.get(plan.trial_id, 0) + 1
    for plan in plans:
        if seen[plan.trial_id] > 1:
            digest = hashlib.sha1(json.dumps(plan.spec, sort_keys=True).encode()).hexdigest()[:6]
            plan.trial_id = f"{plan.trial_id}-{digest}"
