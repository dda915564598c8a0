"""Plain, YAML-friendly descriptions of one trial: what to train, on which split, how long."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from mtl_study.data.schema import TASKS, Inputs


class Evaluate(StrEnum):
    """Which cases a trial is scored on; `test` is for final reporting only."""

    VALIDATION = "validation"
    TEST = "test"


@dataclass
class TrainConfig:
    """Optimiser and loop settings (SPEC 5 defaults).

    Args:
        epochs: Passes over the training cases.
        batch_size: Cases per SGD step.
        lr_max: Cosine schedule start (per iteration).
        lr_min: Cosine schedule end.
        momentum: Nesterov momentum.
        weight_decay: L2 penalty of SGD.
        augment: Random rotation, flips and crop/pad on training volumes.
        device: `auto` (CUDA when present), `cpu` or a torch device string.
        num_workers: DataLoader worker processes for volume loading and augmentation.
        input_shape: Network input (D, H, W); stored volumes are resampled to it. None keeps
            the stored shape (200 x 250 x 250 after `mtl-study preprocess`).
    """

    epochs: int = 80
    batch_size: int = 10
    lr_max: float = 5e-3
    lr_min: float = 5e-5
    momentum: float = 0.9
    weight_decay: float = 5e-5
    augment: bool = True
    device: str = "auto"
    num_workers: int = 0
    input_shape: list[int] | None = None

    def validate(self) -> None:
        """Reject settings that cannot train; called by `run_trial` before any work."""
        if self.epochs < 1:
            raise ValueError(f"train.epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 2:
            raise ValueError(
                f"train.batch_size must be >= 2 (BatchNorm needs two cases), got {self.batch_size}"
            )
        if not 0 <= self.lr_min <= self.lr_max:
            raise ValueError(
                f"need 0 <= train.lr_min <= train.lr_max, got {self.lr_min}, {self.lr_max}"
            )
        if self.num_workers < 0:
            raise ValueError(f"train.num_workers must be >= 0, got {self.num_workers}")
        if self.input_shape is not None and (
            len(self.input_shape) != 3 or min(self.input_shape) < 1
        ):
            raise ValueError(f"train.input_shape must be 3 positive sizes, got {self.input_shape}")


@dataclass
class TransferSpec:
    """Continue a two-task COVID-MTL on new tasks with a frozen trunk (SPEC 3).

    Args:
        from_checkpoint: `checkpoint.pt` of the source trial (it stores the source spec).
        keep_shift3d: Keep Shift3D active while training the new heads, or remove it.
    """

    from_checkpoint: str
    keep_shift3d: bool = True


@dataclass
class TrialSpec:
    """One trial: a model, a loss, tasks, inputs, a seed and the split it is scored on.

    `fold=k, evaluate="validation"` trains on the training split without fold k and scores
    fold k; `evaluate="test"` trains on the whole training split and scores the test split.
    `model` may also be a classical baseline (`random_forest`, `lightgbm`); `model_options`
    then go to the baseline (e.g. `n_estimators`, `n_jobs`).
    """

    model: str
    model_options: dict[str, Any] = field(default_factory=dict)
    loss: str = "mean"
    loss_options: dict[str, Any] = field(default_factory=dict)
    tasks: list[str] = field(default_factory=lambda: ["ct", "nat"])
    inputs: str = Inputs.VOLUME.value
    seed: int = 0
    fold: int | None = None
    evaluate: str = Evaluate.VALIDATION.value
    train: TrainConfig = field(default_factory=TrainConfig)
    transfer: TransferSpec | None = None

    def validate(self) -> None:
        """Check names and the split choice; raises ValueError naming the field."""
        unknown = [t for t in self.tasks if t not in TASKS]
        if unknown or not self.tasks:
            raise ValueError(f"tasks {self.tasks!r}: valid task names are {sorted(TASKS)}")
        if len(set(self.tasks)) != len(self.tasks):
            raise ValueError(f"tasks {self.tasks!r} repeat a task")
        Inputs(self.inputs)
        evaluate = Evaluate(self.evaluate)
        if evaluate is Evaluate.VALIDATION and self.fold is None:
            raise ValueError("evaluate='validation' needs a fold (the held-out fold index)")
        if self.fold is not None and self.fold < 0:
            raise ValueError(f"fold must be >= 0, got {self.fold}")
        self.train.validate()

    @property
    def uses_volume(self) -> bool:
        return Inputs(self.inputs) in (Inputs.VOLUME, Inputs.BOTH)

    @property
    def uses_features(self) -> bool:
        return Inputs(self.inputs) in (Inputs.FEATURES, Inputs.BOTH)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists, dicts, scalars) for YAML, Ray configs and checkpoints."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialSpec:
        """Inverse of `to_dict`; unknown keys fail with the list of valid ones."""
        data = dict(data)
        _reject_unknown(cls, data, "TrialSpec")
        train = data.get("train") or {}
        if isinstance(train, dict):
            _reject_unknown(TrainConfig, train, "TrialSpec.train")
            data["train"] = TrainConfig(**train)
        transfer = data.get("transfer")
        if isinstance(transfer, dict):
            _reject_unknown(TransferSpec, transfer, "TrialSpec.transfer")
            data["transfer"] = TransferSpec(**transfer)
        data["tasks"] = list(data.get("tasks", ["ct", "nat"]))
        for key in ("model_options", "loss_options"):
            data[key] = dict(data.get(key) or {})
        if hasattr(data.get("inputs"), "value"):
            data["inputs"] = data["inputs"].value
        return cls(**data)


def _reject_unknown(cls: type, data: dict[str, Any], where: str) -> None:
    valid = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - valid)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; valid keys are {sorted(valid)}")
