"""Contract test run over every registered model (as scikit-learn's parametrize_with_checks)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mtl_study import models
from mtl_study.data.schema import TASKS, Inputs
from mtl_study.models.shift3d import Shift3D

SHAPE = (16, 24, 24)
N_FEATURES = 12
BATCH = 3


def _setup(name: str):
    """A TaskModel of `name` in its richest configuration, plus a matching batch."""
    inputs = models.allowed_inputs(name)[-1]
    tasks = ["severity"] if models.single_task(name) else list(TASKS)
    options = {"shift_chance": 1.0} if "shift_chance" in models.options(name) else {}
    model = models.build_task_model(name, tasks, inputs, n_features=N_FEATURES, **options)
    torch.manual_seed(0)
    batch = {}
    if inputs in (Inputs.VOLUME, Inputs.BOTH):
        batch["volume"] = torch.randn(BATCH, 1, *SHAPE)
    if inputs in (Inputs.FEATURES, Inputs.BOTH):
        features = torch.rand(BATCH * 4, N_FEATURES) * torch.logspace(-4, 12, N_FEATURES)
        model.fit_feature_scaler(features)
        batch["features"] = features[:BATCH]
    return model, batch


@pytest.fixture(params=models.available())
def setup(request):
    return request.param, *_setup(request.param)


def test_forward_gives_logits_per_task(setup):
    name, model, batch = setup
    out = model(batch)
    assert tuple(out) == model.tasks
    for task, logits in out.items():
        assert logits.shape == (BATCH, TASKS[task]), name
        assert torch.isfinite(logits).all(), name
    assert model.uses_volume == ("volume" in batch)
    assert model.uses_features == ("features" in batch)


def test_backward_reaches_every_parameter(setup):
    name, model, batch = setup
    model.train()
    out = model(batch)
    sum(
        nn.functional.cross_entropy(o, torch.zeros(BATCH, dtype=torch.long)) for o in out.values()
    ).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"{name}: no gradient for {missing}"
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
    assert any(p.grad.abs().sum() > 0 for p in model.parameters())


def test_eval_is_deterministic_and_train_is_random_iff_stochastic_layers(setup):
    name, model, batch = setup
    stochastic = any(isinstance(m, nn.Dropout | Shift3D) for m in model.modules())
    model.eval()
    with torch.no_grad():
        first, second = model(batch), model(batch)
    assert all(torch.equal(first[t], second[t]) for t in model.tasks), name
    model.train()
    torch.manual_seed(1)
    with torch.no_grad():
        first = model(batch)
        second = model(batch)
    differs = any(not torch.equal(first[t], second[t]) for t in model.tasks)
    assert differs == stochastic, name


def test_shift3d_is_identity_in_eval_and_shifts_in_train(setup):
    name, model, batch = setup
    layer = model.shift3d()
    if layer is None:
        assert name not in ("shiftnet3d", "covid_mtl")
        return
    seen = []
    layer.register_forward_hook(lambda module, args, output: seen.append((args[0], output)))
    model.eval()
    model(batch)
    assert seen[-1][1] is seen[-1][0]
    model.train()
    model(batch)
    assert not torch.equal(seen[-1][1], seen[-1][0])


def test_cam_layer_outputs_feature_map(setup):
    _, model, batch = setup
    layer = model.cam_layer()
    if not model.uses_volume:
        assert layer is None
        return
    maps = []
    layer.register_forward_hook(lambda module, args, output: maps.append(output))
    model.eval()
    model(batch)
    assert maps[-1].dim() == 5 and maps[-1].shape[0] == BATCH


@pytest.mark.parametrize("name", models.available())
def test_raw_build_runs(name):
    net = models.build(name)
    net.eval()
    if name == "afnn":
        net.fit_feature_scaler(torch.rand(8, 375))
        out = net(torch.rand(2, 375))
    elif name == "covid_mtl":
        out = net({"volume": torch.randn(2, 1, *SHAPE)})
        out = out["ct"]
    else:
        out = net(torch.randn(2, 1, *SHAPE))
    assert out.shape == (2, 2)
