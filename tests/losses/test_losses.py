"""Mean and uncertainty losses, and the loss registry."""

from __future__ import annotations

import pytest
import torch

from mtl_study import losses
from mtl_study.models import RegistryError

TASKS = ["ct", "nat", "severity"]


def _task_losses(*values: float) -> dict[str, torch.Tensor]:
    return {t: torch.tensor(v) for t, v in zip(TASKS, values, strict=True)}


def test_available_lists_the_three_losses():
    assert losses.available() == ["mean", "uncertainty", "random_weighted"]


def test_mean_is_average():
    loss = losses.build("mean", TASKS)
    assert float(loss(_task_losses(1.0, 2.0, 6.0))) == pytest.approx(3.0)
    assert loss.last_weights == pytest.approx({t: 1 / 3 for t in TASKS})


def test_uncertainty_parameters_are_learned():
    loss = losses.build("uncertainty", TASKS, init_log_var=0.0)
    params = list(loss.parameters())
    assert len(params) == 1 and params[0].shape == (3,)
    optimiser = torch.optim.SGD(loss.parameters(), lr=0.1)
    targets = torch.tensor([0.5, 1.0, 4.0])
    for _ in range(400):
        optimiser.zero_grad()
        total = loss(_task_losses(*targets.tolist()))
        total.backward()
        assert loss.log_vars.grad is not None and loss.log_vars.grad.abs().sum() > 0
        optimiser.step()
    # minimum of exp(-s) L + s is at s = log L: noisier tasks get smaller weights
    assert torch.allclose(loss.log_vars.detach(), targets.log(), atol=0.02)
    weights = [loss.last_weights[t] for t in TASKS]
    assert weights[0] > weights[1] > weights[2] > 0


def test_uncertainty_formula():
    loss = losses.build("uncertainty", ["ct", "nat"], init_log_var=1.0)
    total = loss({"ct": torch.tensor(2.0), "nat": torch.tensor(3.0)})
    expected = (
        (torch.exp(torch.tensor(-1.0)) * 2 + 1) + (torch.exp(torch.tensor(-1.0)) * 3 + 1)
    ) / 2
    assert total.item() == pytest.approx(float(expected))


def test_wrong_task_keys_are_reported():
    loss = losses.build("mean", ["ct", "nat"])
    with pytest.raises(KeyError, match="severity"):
        loss({"ct": torch.tensor(1.0), "severity": torch.tensor(1.0)})


def test_unknown_names_and_options_are_reported():
    with pytest.raises(RegistryError, match="did you mean 'random_weighted'"):
        losses.build("random_weight", TASKS)
    with pytest.raises(RegistryError, match=r"no option 'm'.*valid: n, two_task"):
        losses.build("random_weighted", TASKS, m=3)
    with pytest.raises(RegistryError, match="expected int"):
        losses.build("random_weighted", TASKS, n=2.5)
    with pytest.raises(RegistryError, match="one of"):
        losses.build("random_weighted", TASKS, two_task="beta")
    with pytest.raises(ValueError, match="tasks"):
        losses.build("mean", ["ct", "ct"])


def test_options_are_introspectable():
    opts = losses.options("random_weighted")
    assert opts["n"].default == 2 and opts["n"].type is int
    assert losses.options("mean") == {}
