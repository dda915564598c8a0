"""Shift3D semantics: roll round-trip, padding slab, eval identity, chance, decay, seeding."""

from __future__ import annotations

import math

import pytest
import torch

from mtl_study.models.shift3d import Shift3D, shift_volume


def _volume(batch: int = 4, channels: int = 3, shape=(6, 10, 15)) -> torch.Tensor:
    return torch.arange(batch * channels * math.prod(shape), dtype=torch.float32).reshape(
        batch, channels, *shape
    )


def _find_shift(original: torch.Tensor, shifted: torch.Tensor) -> tuple[int, int] | None:
    """(spatial axis, shift) such that rolling `original` (C, D, H, W) gives `shifted`."""
    for axis in range(3):
        length = original.shape[1 + axis]
        for size in range(1, length):
            for shift in (size, -size):
                if torch.equal(torch.roll(original, shift, 1 + axis), shifted):
                    return axis, shift
    return None


@pytest.mark.parametrize("dim", [2, 3, 4])
@pytest.mark.parametrize("shift", [1, 3, -2])
def test_roll_round_trip(dim, shift):
    x = torch.randn(2, 3, 6, 7, 8)
    out = shift_volume(x, dim, shift)
    assert not torch.equal(out, x)
    assert torch.equal(shift_volume(out, dim, -shift), x)


@pytest.mark.parametrize("shift", [3, -3])
def test_padding_fills_exactly_the_reentered_slab(shift):
    x = torch.rand(2, 3, 6, 7, 8) + 1.0
    out = shift_volume(x, 3, shift, is_padding=True, padding_value=-5.0)
    assert out.shape == x.shape
    if shift > 0:
        slab, kept, source = out[:, :, :, :3], out[:, :, :, 3:], x[:, :, :, :-3]
    else:
        slab, kept, source = out[:, :, :, -3:], out[:, :, :, :-3], x[:, :, :, 3:]
    assert (slab == -5.0).all()
    assert torch.equal(kept, source)
    assert (out == -5.0).sum() == slab.numel()


def test_identity_in_eval_mode():
    layer = Shift3D(shift_chance=1.0).eval()
    x = _volume()
    assert layer(x) is x
    assert int(layer.step) == 0


def test_chance_one_shifts_every_sample_within_limits():
    layer = Shift3D(shift_chance=1.0, max_shift=0.2).train()
    layer.set_generator(torch.Generator().manual_seed(0))
    x = _volume(batch=8)
    for _ in range(5):
        out = layer(x)
        for sample, shifted in zip(x, out, strict=True):
            found = _find_shift(sample, shifted)
            assert found is not None
            axis, shift = found
            length = x.shape[2 + axis]
            assert 1 <= abs(shift) <= max(1, int(0.2 * length))
    assert torch.equal(x, _volume(batch=8)), "input modified in place"


def test_chance_zero_never_shifts():
    layer = Shift3D(shift_chance=0.0).train()
    x = _volume()
    assert layer(x) is x


def test_chance_is_respected_on_average():
    layer = Shift3D(shift_chance=0.25).train()
    layer.set_generator(torch.Generator().manual_seed(1))
    x = _volume(batch=50, channels=1, shape=(4, 10, 10))
    shifted = sum(
        int(not torch.equal(a, b)) for _ in range(8) for a, b in zip(x, layer(x), strict=True)
    )
    assert 0.17 < shifted / 400 < 0.33


def test_batch_shift_moves_all_samples_alike():
    layer = Shift3D(shift_chance=1.0, batch_shift=True).train()
    layer.set_generator(torch.Generator().manual_seed(2))
    x = _volume()
    out = layer(x)
    shifts = {_find_shift(a, b) for a, b in zip(x, out, strict=True)}
    assert len(shifts) == 1 and None not in shifts


def test_padding_mode_in_layer():
    layer = Shift3D(shift_chance=1.0, is_padding=True, padding_value=-1.0).train()
    x = _volume() + 1.0
    out = layer(x)
    per_sample = (out == -1.0).flatten(1).sum(1)
    assert (per_sample > 0).all()


def test_same_generator_seed_same_shifts():
    x = _volume(batch=6)
    outputs = []
    for _ in range(2):
        layer = Shift3D(shift_chance=0.5).train()
        layer.set_generator(torch.Generator().manual_seed(7))
        outputs.append([layer(x) for _ in range(4)])
    assert all(torch.equal(a, b) for a, b in zip(*outputs, strict=True))


def test_cosine_decay_of_chance():
    layer = Shift3D(shift_chance=0.4, total_steps=10).train()
    assert layer.current_chance() == pytest.approx(0.4)
    layer.step.fill_(5)
    assert layer.current_chance() == pytest.approx(0.2)
    layer.step.fill_(10)
    assert layer.current_chance() == pytest.approx(0.0)
    x = _volume()
    assert layer(x) is x
    assert int(layer.step) == 11
    assert "step" in layer.state_dict()


def test_gradient_flows_through_shift():
    layer = Shift3D(shift_chance=1.0, is_padding=True).train()
    layer.set_generator(torch.Generator().manual_seed(3))
    x = torch.rand(4, 2, 6, 8, 8, requires_grad=True)
    out = layer(torch.relu(x))
    out.sum().backward()
    padded = (out == 0.0).sum()
    assert x.grad.sum() == pytest.approx(float(x.numel() - padded))


def test_invalid_chance_names_the_problem():
    layer = Shift3D(shift_chance=1.5).train()
    with pytest.raises(ValueError, match="shift_chance"):
        layer(_volume())
