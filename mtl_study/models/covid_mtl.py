"""COVID-MTL (Bao et al. 2021): a ShiftNet3D trunk shared by all tasks (hard parameter
sharing), task-specific layers to 32-d per task, and optionally the AFNN's 32-d feature
embedding concatenated before each task's linear classifier.

Variants: `shift3d` on/off, `afnn` on/off, `volume` off (features-only multitask AFNN).
"""

from __future__ import annotations

from collections.abc import Iterable

from mtl_study.data.schema import TASKS
from mtl_study.models.afnn import AFNNEncoder
from mtl_study.models.heads import ConvRepresentation, TaskHead
from mtl_study.models.layers import he_init
from mtl_study.models.shift3d import Shift3D
from mtl_study.models.squeezenet3d import SqueezeTrunk
from mtl_study.models.task_model import TaskModel, check_tasks


def build_covid_mtl(
    tasks: Iterable[str] = ("ct", "nat", "severity"),
    shift3d: bool = True,
    afnn: bool = False,
    volume: bool = True,
    n_features: int = 375,
    in_channels: int = 1,
    dropout: float = 0.3,
    afnn_dropout: float = 0.2,
    log_threshold: float = 1e3,
    shift_chance: float = 0.25,
    max_shift: float = 0.2,
    is_padding: bool = False,
    padding_value: float = 0.0,
    batch_shift: bool = False,
    total_steps: int = 0,
) -> TaskModel:
    """Build a COVID-MTL model (a `TaskModel`); options as in `mtl-study models list`."""
    tasks = tuple(tasks)
    check_tasks(tasks, single_task=False)
    if not volume and not afnn:
        raise ValueError("covid_mtl: volume=False needs afnn=True (a model must read something)")
    trunk = None
    if volume:
        layer = (
            Shift3D(shift_chance, max_shift, is_padding, padding_value, batch_shift, total_steps)
            if shift3d
            else None
        )
        trunk = SqueezeTrunk(in_channels, layer)
    encoder = AFNNEncoder(n_features, afnn_dropout, log_threshold) if afnn else None
    embedding = encoder.out_features if encoder is not None else 0
    heads = {
        task: TaskHead(
            ConvRepresentation(trunk.out_channels, dropout) if trunk is not None else None,
            TASKS[task],
            embedding,
        )
        for task in tasks
    }
    model = TaskModel(tasks, trunk, encoder, heads, head_dropout=dropout)
    model.apply(he_init)
    return model
