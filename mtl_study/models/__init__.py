"""Networks of the study, behind one registry: `build`, `build_task_model`, `available`.

Example:
    >>> from mtl_study import models
    >>> net = models.build("squeezenet3d", num_classes=2)
    >>> model = models.build_task_model("covid_mtl", ["ct", "nat"], "volume", shift3d=True)
"""

from __future__ import annotations

from mtl_study.models.catalog import (
    allowed_inputs,
    available,
    build,
    build_task_model,
    options,
    reserved_options,
    single_task,
)
from mtl_study.models.registry import Option, RegistryError
from mtl_study.models.shift3d import Shift3D, shift_volume
from mtl_study.models.task_model import TaskModel

__all__ = [
    "Option",
    "RegistryError",
    "Shift3D",
    "TaskModel",
    "allowed_inputs",
    "available",
    "build",
    "build_task_model",
    "options",
    "reserved_options",
    "shift_volume",
    "single_task",
]
