"""Study files: YAML schema, presets, `-o key.path=value` overrides and validation.

A study names a cohort, how to preprocess it, a grid of variants over the ablation axes,
seeds, a training budget, per-trial resources, the selection metric and the split the
metrics come from. Every error names the study file, the key and the valid choices.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from mtl_study.data.schema import TASKS, Inputs
from mtl_study.study._names import choice_error
from mtl_study.train.config import TrainConfig

#: Where the shipped studies and search spaces live (repository root, next to the package).
REPO_ROOT = Path(__file__).resolve().parents[2]
STUDIES_DIR = REPO_ROOT / "studies"

#: Grid axes; each may hold one value or a list of values (SPEC 3-4 ablation axes).
AXES: tuple[str, ...] = (
    "model",
    "loss",
    "shift3d",
    "afnn",
    "dirichlet_n",
    "max_shift",
    "tasks",
    "inputs",
)
#: Keys a grid block may hold besides the axes.
BLOCK_KEYS: tuple[str, ...] = (
    *AXES,
    "name",
    "model_options",
    "loss_options",
    "resources",
    "train",
)
#: Top-level keys of a study file.
TOP_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "cohort",
    "preprocess",
    "inputs",
    "grid",
    "transfer",
    "seeds",
    "train",
    "resources",
    "metric",
    "mode",
    "evaluate",
    "folds",
    "max_failures",
    "max_concurrent",
    "presets",
)
PREPROCESS_KEYS: tuple[str, ...] = ("segmenter", "crop_shape", "feature_set", "workers")
TRANSFER_KEYS: tuple[str, ...] = ("source", "tasks", "keep_shift3d", "epochs")
RESOURCE_KEYS: tuple[str, ...] = ("cpu", "gpu", "custom")
#: `train:` keys are exactly the trainer's settings (one list, kept by `TrainConfig`).
TRAIN_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(TrainConfig))
#: Classical baselines that run through `run_trial` besides the registered networks.
BASELINES: tuple[str, ...] = ("random_forest", "lightgbm")


class StudyError(ValueError):
    """A study file or override is invalid; the message names the file and the key."""


class Mode(StrEnum):
    """Direction of the selection metric."""

    MAX = "max"
    MIN = "min"


class EvaluateOn(StrEnum):
    """Where a study's metrics come from: the test split, or k folds of the training split."""

    TEST = "test"
    CV = "cv"


@dataclass
class Study:
    """A validated, fully resolved study (presets and overrides applied).

    `raw` keeps the resolved YAML mapping, which is what the results manifest records.
    """

    name: str
    source: str
    raw: dict[str, Any]
    description: str = ""
    cohort: str | None = None
    preprocess: dict[str, Any] = field(default_factory=dict)
    inputs: str = Inputs.VOLUME.value
    grid: list[dict[str, Any]] = field(default_factory=list)
    transfer: dict[str, Any] | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    train: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=lambda: {"cpu": 1, "gpu": 0})
    metric: str = "nat_auc"
    mode: str = Mode.MAX.value
    evaluate: str = EvaluateOn.TEST.value
    folds: int = 5
    max_failures: int = 1
    max_concurrent: int | None = None

    @property
    def study_hash(self) -> str:
        """Stable hash of the resolved study; a resumed run must match it."""
        text = json.dumps(_without(self.raw, "presets"), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_yaml(self) -> str:
        """The resolved study as YAML (presets dropped: they are already applied)."""
        return yaml.safe_dump(_without(self.raw, "presets"), sort_keys=False)

    def replace(self, **changes: Any) -> Study:
        """A copy with some fields changed (and `raw` kept in step); keys that are not fields
        (e.g. a search's space) are recorded in `raw` only, so they enter the study hash."""
        raw = copy.deepcopy(self.raw)
        raw.update(changes)
        names = {f.name for f in dataclasses.fields(self)}
        return dataclasses.replace(
            self, raw=raw, **{k: v for k, v in changes.items() if k in names}
        )


def shipped_studies() -> list[str]:
    """Names of the studies in `studies/`."""
    return sorted(p.stem for p in STUDIES_DIR.glob("*.yaml"))


def find_study_file(name_or_path: str | Path) -> Path:
    """Resolve a shipped study name or a YAML path to a file."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise StudyError(f"study file {path} does not exist")
        return path
    candidate = STUDIES_DIR / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    raise StudyError(choice_error("study", str(name_or_path), shipped_studies()))


def load_study(
    name_or_path: str | Path,
    preset: str | None = None,
    overrides: tuple[str, ...] | list[str] = (),
) -> Study:
    """Read, apply a preset and `key.path=value` overrides, validate.

    Args:
        name_or_path: A shipped study name (`quick`) or a YAML path.
        preset: Name of an entry of the study's `presets` mapping, merged over the study.
        overrides: `key.path=value` strings; values are parsed as YAML (`train.epochs=5`).

    Raises:
        StudyError: Naming the file, the key and the valid choices.
    """
    path = find_study_file(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StudyError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise StudyError(f"{path}: a study file must be a mapping, got {type(data).__name__}")
    data.setdefault("name", path.stem)
    return study_from_dict(data, source=str(path), preset=preset, overrides=overrides)


def study_from_dict(
    data: dict[str, Any],
    source: str = "<dict>",
    preset: str | None = None,
    overrides: tuple[str, ...] | list[str] = (),
) -> Study:
    """Validate a study mapping (see `load_study`); `source` names it in errors."""
    data = copy.deepcopy(data)
    if preset:
        presets = data.get("presets") or {}
        if preset not in presets:
            raise StudyError(f"{source}: preset: " + choice_error("presets", preset, presets))
        data = deep_merge(data, presets[preset])
    for item in overrides:
        data = apply_override(data, item, source)
    return _validate(data, source)


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """`update` merged into a copy of `base`; nested mappings merge, other values replace."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_override(data: dict[str, Any], item: str, source: str = "<override>") -> dict[str, Any]:
    """Apply one `key.path=value` override (value parsed as YAML); lists index by number."""
    if "=" not in item:
        raise StudyError(f"{source}: override {item!r} must look like key.path=value")
    dotted, text = item.split("=", 1)
    keys = dotted.strip().split(".")
    if keys[0] not in TOP_KEYS:
        raise StudyError(f"{source}: override {item!r}: " + choice_error("key", keys[0], TOP_KEYS))
    value = yaml.safe_load(text) if text.strip() else None
    out = copy.deepcopy(data)
    node: Any = out
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(keys[-1])] = value
    else:
        node[keys[-1]] = value
    return out


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


def _check_keys(where: str, mapping: Any, valid: tuple[str, ...]) -> dict[str, Any]:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise StudyError(f"{where}: expected a mapping, got {mapping!r}")
    for key in mapping:
        if key not in valid:
            raise StudyError(choice_error(where, key, valid))
    return mapping


def as_list(value: Any) -> list[Any]:
    """A grid axis value as the list of its options (a scalar is one option)."""
    return list(value) if isinstance(value, list | tuple) else [value]


def task_options(value: Any) -> list[list[str]]:
    """`tasks` options: a list of names is one option, a list of lists several."""
    if isinstance(value, str):
        return [value.split(",")]
    if value and all(isinstance(v, list | tuple) for v in value):
        return [list(v) for v in value]
    return [list(value)]


def _validate(data: dict[str, Any], source: str) -> Study:
    _check_keys(source, data, TOP_KEYS)
    where = f"{source}"
    name = str(data.get("name") or Path(source).stem)
    preprocess = dict(_check_keys(f"{where}: preprocess", data.get("preprocess"), PREPROCESS_KEYS))
    crop = preprocess.get("crop_shape", [200, 250, 250])
    if not (isinstance(crop, list | tuple) and len(crop) == 3 and all(int(c) > 0 for c in crop)):
        raise StudyError(f"{where}: preprocess.crop_shape must be 3 positive ints, got {crop!r}")
    preprocess["crop_shape"] = [int(c) for c in crop]
    preprocess.setdefault("segmenter", "refined")
    preprocess.setdefault("feature_set", "covid-mtl-375")
    _check_segmenter(where, preprocess)

    inputs = str(data.get("inputs") or Inputs.VOLUME.value)
    if inputs not in {i.value for i in Inputs}:
        raise StudyError(choice_error(f"{where}: inputs", inputs, [i.value for i in Inputs]))

    train = dict(_check_keys(f"{where}: train", data.get("train"), TRAIN_KEYS))
    resources = dict(_check_keys(f"{where}: resources", data.get("resources"), RESOURCE_KEYS))
    resources.setdefault("cpu", 1)
    resources.setdefault("gpu", 0)
    _check_resources(f"{where}: resources", resources)

    grid = data.get("grid")
    if not isinstance(grid, list) or not grid:
        raise StudyError(f"{where}: grid must be a non-empty list of variant blocks")
    blocks = []
    for i, block in enumerate(grid):
        blocks.append(_validate_block(f"{where}: grid[{i}]", block))

    transfer = data.get("transfer")
    if transfer is not None:
        transfer = dict(_check_keys(f"{where}: transfer", transfer, TRANSFER_KEYS))
        source_sel = _check_keys(f"{where}: transfer.source", transfer.get("source"), AXES)
        transfer["source"] = dict(source_sel)
        transfer.setdefault("tasks", ["severity"])
        transfer.setdefault("keep_shift3d", [True, False])
        transfer.setdefault("epochs", 50)
        _check_tasks(f"{where}: transfer.tasks", transfer["tasks"])

    seeds = as_list(data.get("seeds", [0]))
    if not seeds or not all(isinstance(s, int) for s in seeds):
        raise StudyError(f"{where}: seeds must be a list of integers, got {seeds!r}")
    mode = str(data.get("mode", Mode.MAX.value))
    if mode not in {m.value for m in Mode}:
        raise StudyError(choice_error(f"{where}: mode", mode, [m.value for m in Mode]))
    evaluate = str(data.get("evaluate", EvaluateOn.TEST.value))
    if evaluate not in {e.value for e in EvaluateOn}:
        raise StudyError(
            choice_error(f"{where}: evaluate", evaluate, [e.value for e in EvaluateOn])
        )
    folds = int(data.get("folds", 5))
    if folds < 2:
        raise StudyError(f"{where}: folds must be >= 2, got {folds}")
    metric = str(data.get("metric", "nat_auc"))
    _check_metric(where, metric)
    max_concurrent = data.get("max_concurrent")
    resolved = dict(data)
    resolved.update(preprocess=preprocess, train=train, resources=resources, seeds=seeds)
    resolved["name"] = name
    return Study(
        name=name,
        source=source,
        raw=resolved,
        description=str(data.get("description") or ""),
        cohort=str(data["cohort"]) if data.get("cohort") else None,
        preprocess=preprocess,
        inputs=inputs,
        grid=blocks,
        transfer=transfer,
        seeds=seeds,
        train=train,
        resources=resources,
        metric=metric,
        mode=mode,
        evaluate=evaluate,
        folds=folds,
        max_failures=int(data.get("max_failures", 1)),
        max_concurrent=int(max_concurrent) if max_concurrent else None,
    )


def _validate_block(where: str, block: Any) -> dict[str, Any]:
    block = dict(_check_keys(where, block, BLOCK_KEYS))
    if "model" not in block:
        raise StudyError(f"{where}: every grid block needs a `model`")
    models, losses = _registries()
    for model in as_list(block["model"]):
        if model not in models:
            raise StudyError(choice_error(f"{where}: model", model, models))
    for loss in as_list(block.get("loss", "mean")):
        if loss not in losses:
            raise StudyError(choice_error(f"{where}: loss", loss, losses))
    for inputs in as_list(block.get("inputs", Inputs.VOLUME.value)):
        if inputs not in {i.value for i in Inputs}:
            raise StudyError(choice_error(f"{where}: inputs", inputs, [i.value for i in Inputs]))
    for key in ("shift3d", "afnn"):
        for value in as_list(block.get(key, False)):
            if not isinstance(value, bool):
                raise StudyError(f"{where}: {key} must be true/false, got {value!r}")
    for n in as_list(block.get("dirichlet_n", 1)):
        if not isinstance(n, int) or n < 1:
            raise StudyError(f"{where}: dirichlet_n must be an integer >= 1, got {n!r}")
    for p in as_list(block.get("max_shift", 0.0)):
        if not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
            raise StudyError(f"{where}: max_shift must be a number in 0..1, got {p!r}")
    if "tasks" in block:
        for option in task_options(block["tasks"]):
            _check_tasks(f"{where}: tasks", option)
    if "resources" in block:
        _check_resources(f"{where}: resources", dict(block["resources"]))
    _check_keys(f"{where}: train", block.get("train"), TRAIN_KEYS)
    for key in ("model_options", "loss_options"):
        if key in block and not isinstance(block[key], dict):
            raise StudyError(f"{where}: {key} must be a mapping, got {block[key]!r}")
    return block


def _check_tasks(where: str, tasks: Any) -> None:
    tasks = as_list(tasks)
    if not tasks:
        raise StudyError(f"{where}: needs at least one task; valid tasks are {sorted(TASKS)}")
    for task in tasks:
        if task not in TASKS:
            raise StudyError(choice_error(where, task, TASKS))


def _check_resources(where: str, resources: dict[str, Any]) -> None:
    _check_keys(where, resources, RESOURCE_KEYS)
    for key in ("cpu", "gpu"):
        value = resources.get(key, 0)
        if not isinstance(value, int | float) or value < 0:
            raise StudyError(f"{where}: {key} must be a number >= 0, got {value!r}")
    custom = resources.get("custom") or {}
    if not isinstance(custom, dict):
        raise StudyError(f"{where}: custom must map resource names to amounts, got {custom!r}")


def _check_metric(where: str, metric: str) -> None:
    known = ["train_loss", "eval_loss"]
    for task in TASKS:
        known += [f"{task}_{m}" for m in ("precision", "recall", "f1", "accuracy", "auc")]
    known += ["mean_auc", "mean_accuracy"]
    if metric not in known:
        raise StudyError(choice_error(f"{where}: metric", metric, known))


def _check_segmenter(where: str, preprocess: dict[str, Any]) -> None:
    """Segmenter and feature set must be registered in the preprocessing registries."""
    from mtl_study.preprocess import segmenters
    from mtl_study.preprocess.radiomics import FEATURE_SETS

    available = getattr(segmenters, "available", None)
    if available is not None and preprocess["segmenter"] not in available():
        raise StudyError(
            choice_error(f"{where}: preprocess.segmenter", preprocess["segmenter"], available())
        )
    feature_set = preprocess["feature_set"]
    if feature_set is not None and feature_set not in FEATURE_SETS.names():
        raise StudyError(
            choice_error(f"{where}: preprocess.feature_set", feature_set, FEATURE_SETS.names())
        )


def _registries() -> tuple[list[str], list[str]]:
    """Valid model and loss names, from the same registries the trainer builds from."""
    from mtl_study import losses, models

    return [*models.available(), *BASELINES], list(losses.available())
