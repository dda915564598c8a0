"""Transfer (SPEC 3): a two-task COVID-MTL continues on severity with a frozen trunk."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from mtl_study.train.checkpoint import load_checkpoint
from mtl_study.train.config import TrialSpec


def adapt_for_transfer(model: nn.Module, spec: TrialSpec) -> nn.Module:
    """New fully connected heads for `spec.tasks`, frozen trunk, Shift3D kept or removed."""
    assert spec.transfer is not None
    model.replace_heads(list(spec.tasks))
    model.freeze_trunk()
    if not spec.transfer.keep_shift3d:
        model.set_shift3d(False)
    return model


def build_transfer_model(spec: TrialSpec, n_features: int | None) -> tuple[nn.Module, TrialSpec]:
    """Rebuild the source trial's model from its checkpoint, then `adapt_for_transfer`.

    The checkpoint stores the source spec, so the model is rebuilt exactly as it was trained
    (including its fitted feature scaler).

    Returns:
        The adapted model and the source trial's spec.

    Raises:
        ValueError: The checkpoint is missing or its inputs differ from `spec.inputs`.
    """
    from mtl_study import models

    assert spec.transfer is not None
    path = Path(spec.transfer.from_checkpoint)
    if not path.is_file():
        raise ValueError(f"transfer: source checkpoint {path} does not exist")
    state = load_checkpoint(path)
    source = TrialSpec.from_dict(state["spec"])
    if source.inputs != spec.inputs:
        raise ValueError(
            f"transfer: {path} was trained on inputs {source.inputs!r}, "
            f"the trial asks for {spec.inputs!r}"
        )
    model = models.build_task_model(
        source.model, source.tasks, source.inputs, n_features=n_features, **source.model_options
    )
    model.load_state_dict(state["trainer"]["model"])
    return adapt_for_transfer(model, spec), source
