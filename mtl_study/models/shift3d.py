"""Shift3D: random whole-sample shifts of 3D feature maps during training (COVID-MTL, Bao 2021).

A feature-level augmentation: shifting the stem's feature maps of a sample along one spatial
axis makes the network less sensitive to where the lungs sit in the crop. It costs one
`torch.roll` (or one slice-and-pad) per shifted sample over all channels at once, and nothing
for the samples that are not shifted.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def shift_volume(
    x: Tensor, dim: int, shift: int, is_padding: bool = False, padding_value: float = 0.0
) -> Tensor:
    """Shift `x` by `shift` elements along `dim` (positive: towards higher indices).

    Elements that leave one end re-enter at the other (`torch.roll`), or, with `is_padding`,
    the re-entered slab (`[0, shift)` for a positive shift, `[L + shift, L)` for a negative
    one) holds `padding_value`. Never modifies `x` in place.
    """
    if shift == 0:
        return x
    if not is_padding:
        return torch.roll(x, shifts=shift, dims=dim)
    length = x.shape[dim]
    size = min(abs(shift), length)
    pad_shape = list(x.shape)
    pad_shape[dim] = size
    pad = x.new_full(pad_shape, padding_value)
    if shift > 0:
        return torch.cat([pad, x.narrow(dim, 0, length - size)], dim=dim)
    return torch.cat([x.narrow(dim, size, length - size), pad], dim=dim)


class Shift3D(nn.Module):
    """Randomly shift each sample's feature maps along one spatial axis; identity in eval mode.

    For each sample (or once for the whole batch with `batch_shift`), with probability
    `shift_chance`: pick an axis among D, H, W, a magnitude of 1 .. max(1, floor(max_shift * L))
    voxels (L: that axis' length) and a direction, and shift all channels of the sample.
    A drawn shift is never 0, so a chance of 1.0 shifts every sample.

    With `total_steps > 0` the chance decays along a cosine from `shift_chance` at step 0 to
    0 at `total_steps` (a step is one training forward). The step count is a buffer, so a
    checkpoint restores the schedule. Random draws come from the generator given to
    `set_generator` (the trial's, for reproducible runs), else from torch's global RNG; every
    training forward draws the same number of values whatever the outcome.

    Input and output: `(B, C, D, H, W)`.
    """

    def __init__(
        self,
        shift_chance: float = 0.25,
        max_shift: float = 0.2,
        is_padding: bool = False,
        padding_value: float = 0.0,
        batch_shift: bool = False,
        total_steps: int = 0,
    ) -> None:
        super().__init__()
        self.shift_chance = shift_chance
        self.max_shift = max_shift
        self.is_padding = is_padding
        self.padding_value = padding_value
        self.batch_shift = batch_shift
        self.total_steps = total_steps
        self.generator: torch.Generator | None = None
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def extra_repr(self) -> str:
        return (
            f"shift_chance={self.shift_chance}, max_shift={self.max_shift}, "
            f"is_padding={self.is_padding}, padding_value={self.padding_value}, "
            f"batch_shift={self.batch_shift}, total_steps={self.total_steps}"
        )

    def set_generator(self, generator: torch.Generator | None) -> None:
        """Draw from `generator` (owned by the trial) instead of torch's global RNG."""
        self.generator = generator

    def current_chance(self) -> float:
        """Shift probability at the current step (after cosine decay, if enabled)."""
        if not 0.0 <= self.shift_chance <= 1.0 or self.max_shift < 0:
            raise ValueError(
                f"Shift3D: shift_chance must lie in [0, 1] and max_shift be >= 0, got "
                f"{self.shift_chance} and {self.max_shift}"
            )
        if self.total_steps <= 0:
            return self.shift_chance
        progress = min(int(self.step), self.total_steps) / self.total_steps
        return self.shift_chance * 0.5 * (1.0 + math.cos(math.pi * progress))

    def draw(self, n: int, spatial: tuple[int, ...]) -> list[tuple[int, int] | None]:
        """Draw `n` shifts as `(spatial axis 0..2, signed shift)` or None (no shift)."""
        chance = self.current_chance()
        device = self.generator.device if self.generator is not None else "cpu"
        uniform = torch.rand(n, 3, generator=self.generator, device=device).tolist()
        axes = torch.randint(0, 3, (n,), generator=self.generator, device=device).tolist()
        plans: list[tuple[int, int] | None] = []
        for (hit, magnitude, direction), axis in zip(uniform, axes, strict=True):
            if hit >= chance or self.max_shift == 0:
                plans.append(None)
                continue
            limit = max(1, int(self.max_shift * spatial[axis]))
            size = min(limit, 1 + int(magnitude * limit))
            plans.append((axis, size if direction < 0.5 else -size))
        return plans

    def forward(self, x: Tensor) -> Tensor:
        """Shift in training mode, identity in eval mode."""
        if not self.training:
            return x
        if x.dim() != 5:
            raise ValueError(f"Shift3D expects (B, C, D, H, W), got shape {tuple(x.shape)}")
        plans = self.draw(1 if self.batch_shift else x.shape[0], tuple(x.shape[2:]))
        self.step += 1
        if self.batch_shift:
            plan = plans[0]
            return x if plan is None else self._shift(x, 2 + plan[0], plan[1])
        if all(plan is None for plan in plans):
            return x
        return torch.stack(
            [
                sample if plan is None else self._shift(sample, 1 + plan[0], plan[1])
                for sample, plan in zip(x.unbind(0), plans, strict=True)
            ]
        )

    def _shift(self, x: Tensor, dim: int, shift: int) -> Tensor:
        return shift_volume(x, dim, shift, self.is_padding, self.padding_value)
