"""`run_trial`: the one function the orchestrator calls per trial (contracts §4)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from mtl_study import baselines
from mtl_study.data.cohort import Cohort, load_cohort
from mtl_study.train.augment import VolumeTransform
from mtl_study.train.checkpoint import (
    CHECKPOINT_NAME,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from mtl_study.train.config import TrialSpec
from mtl_study.train.data import (
    CaseDataset,
    SplitCases,
    epoch_order,
    feature_matrix,
    select_cases,
    task_labels,
    tensor_batches,
)
from mtl_study.train.metrics import task_metrics
from mtl_study.train.trainer import EvalResult, Trainer, resolve_device
from mtl_study.train.transfer import adapt_for_transfer, build_transfer_model

#: Called after every epoch with the epoch record and the checkpoint just written (or None).
EpochCallback = Callable[[dict[str, Any], Path | None], None]

PREDICTION_COLUMNS: tuple[str, ...] = (
    "case_id",
    "task",
    "label",
    "pred",
    "prob_0",
    "prob_1",
    "prob_2",
)


@dataclass
class TrialOutput:
    """What a trial leaves: per-epoch records, last-epoch predictions, last checkpoint."""

    history: list[dict[str, Any]]
    predictions: pd.DataFrame
    checkpoint: Path | None


def run_trial(
    spec: TrialSpec | dict[str, Any],
    cohort_root: str | Path,
    on_epoch: EpochCallback | None = None,
    checkpoint_dir: str | Path | None = None,
) -> TrialOutput:
    """Train and score one trial; resume from `checkpoint_dir/checkpoint.pt` when present.

    Args:
        spec: The trial (or its `to_dict` form).
        cohort_root: Cohort directory (contracts §1), preprocessed when volumes are used.
        on_epoch: Called after every epoch as `on_epoch(record, checkpoint_path)`.
        checkpoint_dir: Where `checkpoint.pt` is written each epoch; None: no checkpoints.

    Returns:
        History, last-epoch predictions on the evaluated split, and the checkpoint path.

    Raises:
        NonFiniteLossError: The training loss became NaN or infinite.
        ValueError: Bad spec, empty split, missing labels or features.
    """
    if not isinstance(spec, TrialSpec):
        spec = TrialSpec.from_dict(spec)
    spec.validate()
    cohort = load_cohort(cohort_root, check_paths=False)
    cases = select_cases(cohort.manifest, spec.fold, spec.evaluate)
    if spec.model in baselines.available():
        return _run_baseline(spec, cohort, cases, on_epoch)
    return _run_network(spec, cohort, cases, on_epoch, checkpoint_dir)


def epoch_record(
    epoch: int,
    train_loss: float,
    eval_loss: float,
    lr: float,
    time_s: float,
    labels: dict[str, np.ndarray],
    probs: dict[str, np.ndarray],
) -> dict[str, Any]:
    """The epoch record of contracts §4: losses, LR, time and `{task}_{metric}` columns."""
    record: dict[str, Any] = {
        "epoch": epoch,
        "train_loss": float(train_loss),
        "eval_loss": float(eval_loss),
        "lr": float(lr),
        "time_s": float(time_s),
    }
    for task, task_probs in probs.items():
        for name, value in task_metrics(labels[task], task_probs).items():
            record[f"{task}_{name}"] = value
    return record


def predictions_frame(
    case_ids: list[str], labels: dict[str, np.ndarray], probs: dict[str, np.ndarray]
) -> pd.DataFrame:
    """One row per case x task with the label, the argmax and the class probabilities."""
    frames = []
    for task, p in probs.items():
        frame = pd.DataFrame(
            {"case_id": case_ids, "task": task, "label": labels[task], "pred": p.argmax(axis=1)}
        )
        for c in range(3):
            frame[f"prob_{c}"] = p[:, c] if c < p.shape[1] else math.nan
        frames.append(frame)
    return pd.concat(frames, ignore_index=True).loc[:, list(PREDICTION_COLUMNS)]


def _log_loss(labels: np.ndarray, probs: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-15, 1.0)).mean())


def _run_baseline(
    spec: TrialSpec, cohort: Cohort, cases: SplitCases, on_epoch: EpochCallback | None
) -> TrialOutput:
    """Fit RF / LightGBM per task on the raw features: one "epoch", no checkpoint."""
    start = time.perf_counter()
    x_train = feature_matrix(cohort.features, cases.train, cohort.root)
    x_eval = feature_matrix(cohort.features, cases.eval, cohort.root)
    y_train = task_labels(cohort.manifest, cases.train, spec.tasks)
    y_eval = task_labels(cohort.manifest, cases.eval, spec.tasks)
    model = baselines.build(spec.model, seed=spec.seed, **spec.model_options)
    model.fit(x_train, y_train, spec.tasks)
    p_train, p_eval = model.predict_proba(x_train), model.predict_proba(x_eval)
    record = epoch_record(
        epoch=1,
        train_loss=np.mean([_log_loss(y_train[t], p_train[t]) for t in spec.tasks]),
        eval_loss=np.mean([_log_loss(y_eval[t], p_eval[t]) for t in spec.tasks]),
        lr=math.nan,
        time_s=time.perf_counter() - start,
        labels=y_eval,
        probs=p_eval,
    )
    if on_epoch is not None:
        on_epoch(record, None)
    return TrialOutput([record], predictions_frame(cases.eval, y_eval, p_eval), None)


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch, NumPy and Python (weight init, dropout) and return the trial generator
    that feeds Shift3D, random-weighted loss draws and augmentation seeds."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    return torch.Generator().manual_seed(seed)


def _datasets(
    spec: TrialSpec, cohort: Cohort, cases: SplitCases
) -> tuple[CaseDataset, CaseDataset]:
    """Training and evaluated datasets; the feature scaler sees training cases only."""
    y_train = task_labels(cohort.manifest, cases.train, spec.tasks)
    y_eval = task_labels(cohort.manifest, cases.eval, spec.tasks)
    x_train = x_eval = None
    if spec.uses_features:
        x_train = feature_matrix(cohort.features, cases.train, cohort.root)
        x_eval = feature_matrix(cohort.features, cases.eval, cohort.root)
    train_tf = eval_tf = None
    if spec.uses_volume:
        shape = spec.train.input_shape
        if shape is None:
            from mtl_study.preprocess.store import load_volume

            shape = load_volume(cohort.root, cases.train[0]).shape
        train_tf = VolumeTransform(tuple(shape), augment=spec.train.augment)
        eval_tf = VolumeTransform(tuple(shape), augment=False)
    return (
        CaseDataset(cohort.root, cases.train, y_train, x_train, train_tf),
        CaseDataset(cohort.root, cases.eval, y_eval, x_eval, eval_tf),
    )


def _batches(
    dataset: CaseDataset, items: list[tuple[int, int]], spec: TrialSpec, shuffle_seed: int
) -> Iterable[dict[str, Any]]:
    if dataset.transform is None:
        return tensor_batches(dataset, items, spec.train.batch_size)
    workers = spec.train.num_workers
    return DataLoader(
        dataset,
        batch_size=spec.train.batch_size,
        sampler=items,
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        persistent_workers=False,
        generator=torch.Generator().manual_seed(shuffle_seed),
    )


def build_model(
    spec: TrialSpec, train_features: np.ndarray | None, generator: torch.Generator
) -> tuple[nn.Module, dict[str, Any]]:
    """The TaskModel of `spec` (or the transferred one), wired to the trial generator.

    A fresh model's feature scaler is fitted on `train_features` (training cases only); a
    transferred model keeps the scaler of its source trial.

    Returns:
        The model and its architecture record (stored in checkpoints for `load_trained_model`).
    """
    from mtl_study import models

    n_features = None if train_features is None else int(train_features.shape[1])
    if spec.transfer is not None:
        model, source = build_transfer_model(spec, n_features)
        architecture = {"n_features": n_features, "source": source.to_dict()}
    else:
        model = models.build_task_model(
            spec.model, spec.tasks, spec.inputs, n_features=n_features, **spec.model_options
        )
        if train_features is not None:
            model.fit_feature_scaler(train_features)
        architecture = {"n_features": n_features, "source": None}
    model.set_generator(generator)
    return model, architecture


def load_trained_model(checkpoint: str | Path) -> tuple[nn.Module, TrialSpec]:
    """The trained model of a trial's `checkpoint.pt` (eval mode, CPU) and the trial's spec.

    Needs neither the cohort nor, for transferred models, the source checkpoint.
    """
    from mtl_study import models

    state = load_checkpoint(Path(checkpoint))
    spec = TrialSpec.from_dict(state["spec"])
    architecture = state["architecture"]
    base = TrialSpec.from_dict(architecture["source"]) if architecture["source"] else spec
    model = models.build_task_model(
        base.model,
        base.tasks,
        base.inputs,
        n_features=architecture["n_features"],
        **base.model_options,
    )
    if spec.transfer is not None:
        adapt_for_transfer(model, spec)
    model.load_state_dict(state["trainer"]["model"])
    return model.eval(), spec


def _run_network(
    spec: TrialSpec,
    cohort: Cohort,
    cases: SplitCases,
    on_epoch: EpochCallback | None,
    checkpoint_dir: str | Path | None,
) -> TrialOutput:
    from mtl_study import losses

    generator = seed_everything(spec.seed)
    train_set, eval_set = _datasets(spec, cohort, cases)
    model, architecture = build_model(spec, train_set.features, generator)
    loss_fn = losses.build(spec.loss, spec.tasks, generator=generator, **spec.loss_options)
    trainer = Trainer(
        model, loss_fn, spec.tasks, spec.train, len(train_set), resolve_device(spec.train.device)
    )

    path = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
    history: list[dict[str, Any]] = []
    if path is not None and path.exists():
        state = load_checkpoint(path)
        _check_same_trial(path, state["spec"], spec)
        trainer.load_state_dict(state["trainer"])
        history = list(state["history"])
        set_rng_state(state["rng"], generator)
    eval_items = epoch_order(len(eval_set), generator, shuffle=False)
    result: EvalResult | None = None
    for epoch in range(len(history) + 1, spec.train.epochs + 1):
        start = time.perf_counter()
        items = epoch_order(len(train_set), generator, shuffle=True)
        train_loss, lr = trainer.train_epoch(
            _batches(train_set, items, spec, spec.seed + epoch), epoch
        )
        result = trainer.evaluate(_batches(eval_set, eval_items, spec, 0))
        record = epoch_record(
            epoch,
            train_loss,
            result.loss,
            lr,
            time.perf_counter() - start,
            _ordered(eval_set.labels, result.index),
            result.probs,
        )
        history.append(record)
        if path is not None:
            save_checkpoint(
                path,
                {
                    "spec": spec.to_dict(),
                    "architecture": architecture,
                    "epoch": epoch,
                    "history": history,
                    "trainer": trainer.state_dict(),
                    "rng": rng_state(generator),
                },
            )
        if on_epoch is not None:
            on_epoch(record, path)
    if result is None:
        result = trainer.evaluate(_batches(eval_set, eval_items, spec, 0))
    case_ids = [eval_set.case_ids[i] for i in result.index]
    predictions = predictions_frame(case_ids, _ordered(eval_set.labels, result.index), result.probs)
    return TrialOutput(history, predictions, path)


#: Train settings that may differ between a run and its resumption (another node or device);
#: the source checkpoint of a transfer may also have moved.
_RESUMABLE_CHANGES = ("device", "num_workers")


def _check_same_trial(path: Path, stored: dict[str, Any], spec: TrialSpec) -> None:
    """Refuse to resume a checkpoint of a different trial (its schedule and data differ)."""
    current = spec.to_dict()
    for key in _RESUMABLE_CHANGES:
        stored["train"].pop(key, None)
        current["train"].pop(key, None)
    for entry in (stored, current):
        if entry.get("transfer"):
            entry["transfer"].pop("from_checkpoint", None)
    if stored != current:
        changed = sorted(k for k in current if stored.get(k) != current[k])
        raise ValueError(f"{path} belongs to another trial (spec differs in {changed})")


def _ordered(labels: dict[str, np.ndarray], index: np.ndarray) -> dict[str, np.ndarray]:
    return {t: v[index] for t, v in labels.items()}


__all__ = ["EpochCallback", "TrialOutput", "epoch_record", "predictions_frame", "run_trial"]
