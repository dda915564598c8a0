"""Random-weighted loss: Dirichlet weight properties and the loss built on them."""

from __future__ import annotations

import pytest
import torch

from mtl_study import losses
from mtl_study.losses import random_task_weights


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("n", [1, 2, 10])
def test_weights_are_positive_and_sum_to_one(k, n):
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        w = random_task_weights(k, n, g)
        assert w.shape == (k,)
        assert (w > 0).all()
        assert float(w.sum()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("k", [2, 3])
def test_large_n_tends_to_uniform_weights(k):
    w = random_task_weights(k, 20_000, torch.Generator().manual_seed(1))
    assert torch.allclose(w, torch.full((k,), 1.0 / k, dtype=torch.float64), atol=0.01)


def test_spread_shrinks_with_n():
    g = torch.Generator().manual_seed(2)
    spread = {
        n: torch.stack([random_task_weights(3, n, g) for _ in range(400)]).std(0).mean()
        for n in (1, 2, 16)
    }
    assert spread[1] > spread[2] > spread[16]
    # Dirichlet(1, 1, 1) marginal is Beta(1, 2): std sqrt(2 / 36) ~ 0.236; mean of n: / sqrt(n).
    assert float(spread[1]) == pytest.approx(0.236, abs=0.03)


def test_two_task_uniform_draw():
    g = torch.Generator().manual_seed(3)
    draws = torch.stack([random_task_weights(2, 50, g, two_task="uniform") for _ in range(2000)])
    assert torch.allclose(draws.sum(1), torch.ones(2000, dtype=torch.float64))
    assert float(draws[:, 0].mean()) == pytest.approx(0.5, abs=0.03)
    # uniform ignores n: the spread is that of U(0, 1), not of a mean of 50 draws
    assert float(draws[:, 0].std()) == pytest.approx((1 / 12) ** 0.5, abs=0.02)


def test_generator_makes_draws_reproducible():
    first = random_task_weights(3, 2, torch.Generator().manual_seed(4))
    second = random_task_weights(3, 2, torch.Generator().manual_seed(4))
    assert torch.equal(first, second)


def test_loss_is_weighted_sum_with_logged_weights():
    loss = losses.build(
        "random_weighted",
        ["ct", "nat", "severity"],
        generator=torch.Generator().manual_seed(5),
        n=2,
    )
    task_losses = {"ct": torch.tensor(1.0), "nat": torch.tensor(2.0), "severity": torch.tensor(4.0)}
    totals = set()
    for _ in range(5):
        total = loss(task_losses)
        expected = sum(loss.last_weights[t] * float(v) for t, v in task_losses.items())
        assert float(total) == pytest.approx(expected, rel=1e-6)
        assert sum(loss.last_weights.values()) == pytest.approx(1.0, abs=1e-6)
        totals.add(round(float(total), 6))
    assert len(totals) == 5, "weights must change every training iteration"
    loss.eval()
    assert float(loss(task_losses)) == pytest.approx(7.0 / 3.0)


def test_bad_draw_count_is_reported():
    with pytest.raises(ValueError, match="n >= 1"):
        random_task_weights(2, 0)
