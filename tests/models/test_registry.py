"""Model registry: names, options, errors and the SPEC's exact SqueezeNet3D size."""

from __future__ import annotations

import pytest
import torch

from mtl_study import models
from mtl_study.models import RegistryError


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_available_models():
    assert models.available() == ["resnet3d34", "squeezenet3d", "shiftnet3d", "covid_mtl", "afnn"]


def test_squeezenet3d_has_the_spec_parameter_count():
    assert _count(models.build("squeezenet3d", num_classes=2)) == 3_660_034
    assert _count(models.build("shiftnet3d", num_classes=2)) == 3_660_034
    net = models.build("squeezenet3d", num_classes=2)
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm3d)]
    assert all(m.eps == 1e-3 and m.momentum == 0.01 for m in norms)
    assert sum(type(m).__name__ == "Fire" for m in net.modules()) == 8


def test_task_model_of_single_task_cnn_is_the_raw_network():
    raw = models.build("squeezenet3d", num_classes=3)
    model = models.build_task_model("squeezenet3d", ["severity"], "volume")
    assert _count(model) == _count(raw)
    assert models.single_task("squeezenet3d") and not models.single_task("covid_mtl")


def test_resnet3d34_has_34_layer_structure():
    net = models.build("resnet3d34")
    blocks = [len(stage) for stage in net.trunk.stages]
    assert blocks == [3, 4, 6, 3]


def test_unknown_name_lists_valid_names_and_nearest():
    with pytest.raises(RegistryError, match=r"valid: resnet3d34, .*did you mean 'shiftnet3d'"):
        models.build("shiftnet")


def test_unknown_and_mistyped_options():
    with pytest.raises(RegistryError, match=r"no option 'max_shfit'.*did you mean 'max_shift'"):
        models.build("shiftnet3d", max_shfit=0.1)
    with pytest.raises(RegistryError, match="expected bool"):
        models.build("covid_mtl", shift3d="yes")
    with pytest.raises(RegistryError, match="tasks"):
        models.build("covid_mtl", tasks=["ct", "pcr"])


def test_build_task_model_checks_tasks_and_inputs():
    with pytest.raises(ValueError, match="exactly one task"):
        models.build_task_model("resnet3d34", ["ct", "nat"], "volume")
    with pytest.raises(RegistryError, match="cannot read inputs='features'"):
        models.build_task_model("squeezenet3d", ["ct"], "features")
    with pytest.raises(RegistryError, match="unknown inputs 'image'"):
        models.build_task_model("covid_mtl", ["ct"], "image")
    with pytest.raises(RegistryError, match="not settable here"):
        models.build_task_model("shiftnet3d", ["ct"], "volume", num_classes=3)
    with pytest.raises(RegistryError, match="contradicts inputs='both'"):
        models.build_task_model("covid_mtl", ["ct"], "both", afnn=False)


def test_options_are_introspectable():
    opts = models.options("covid_mtl")
    assert opts["shift3d"].default is True
    assert opts["max_shift"].default == 0.2 and opts["shift_chance"].default == 0.25
    assert opts["tasks"].choices == ("ct", "nat", "severity")
    assert "max_shift" in models.options("shiftnet3d")
    assert "max_shift" not in models.options("squeezenet3d")
    assert models.reserved_options("covid_mtl") == {"tasks": "given as the tasks argument"}
