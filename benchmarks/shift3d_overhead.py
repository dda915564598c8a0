"""Shift3D overhead on CPU: ShiftNet3D vs SqueezeNet3D, and Shift3D vs a naive Python loop.

    python benchmarks/shift3d_overhead.py [--batch 2] [--shape 64 96 96] [--repeats 8]

Prints mean training-step and median layer (forward+backward) times, and two ratios:
  * ShiftNet3D / SqueezeNet3D training step on the same batch and weights (goal < 1.05),
    at the default chance 0.25 and at chance 1.0 (every sample shifted);
  * naive Shift3D (per-sample, per-channel `torch.roll` written into a clone) / ours,
    for the layer alone (chance 1.0: every sample shifted) and inside a training step.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

from mtl_study import models
from mtl_study.models.shift3d import Shift3D


class NaiveShift3D(nn.Module):
    """The reference form: one `torch.roll` per sample and channel into a cloned tensor."""

    def __init__(self, shift_chance: float = 0.25, max_shift: float = 0.2) -> None:
        super().__init__()
        self.shift_chance = shift_chance
        self.max_shift = max_shift

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return x
        out = x.clone()
        for b in range(x.shape[0]):
            if torch.rand(()) >= self.shift_chance:
                continue
            axis = int(torch.randint(0, 3, ()))
            limit = max(1, int(self.max_shift * x.shape[2 + axis]))
            shift = int(torch.randint(1, limit + 1, ())) * (1 if torch.rand(()) < 0.5 else -1)
            for c in range(x.shape[1]):
                out[b, c] = torch.roll(x[b, c], shift, axis)
        return out


def _median_time(step: Callable[[], None], repeats: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _train_step(net: nn.Module, x: Tensor, y: Tensor) -> Callable[[], None]:
    def step() -> None:
        net.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(net(x), y).backward()

    return step


def _layer_step(layer: nn.Module, x: Tensor) -> Callable[[], None]:
    def step() -> None:
        source = x.detach().requires_grad_(True)
        layer(source).square().sum().backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--shape", type=int, nargs=3, default=(64, 96, 96))
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 1, *args.shape)
    y = torch.randint(0, 2, (args.batch,))

    squeeze = models.build("squeezenet3d", num_classes=2).train()
    shift = models.build("shiftnet3d", num_classes=2).train()
    shift.load_state_dict(squeeze.state_dict(), strict=False)  # + Shift3D step
    always = models.build("shiftnet3d", num_classes=2, shift_chance=1.0).train()
    always.load_state_dict(squeeze.state_dict(), strict=False)
    naive = models.build("shiftnet3d", num_classes=2).train()
    naive.load_state_dict(squeeze.state_dict(), strict=False)
    naive.trunk.shift3d = NaiveShift3D()
    for net in (squeeze, shift, always, naive):
        net.classifier[0].p = 0.0  # same work in every network: no dropout mask differences

    steps = {
        "squeezenet3d": _train_step(squeeze, x, y),
        "shiftnet3d": _train_step(shift, x, y),
        "shiftnet3d (chance 1.0)": _train_step(always, x, y),
        "shiftnet3d (naive shift)": _train_step(naive, x, y),
    }
    for step in steps.values():
        step()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.repeats):  # interleave so load changes hit every network alike
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    # mean, not median: at chance 0.25 most steps do not shift, the mean charges the ones that do
    step_time = {name: statistics.mean(values) for name, values in times.items()}

    stem = squeeze.trunk.stem(x).detach()
    layer_time = {
        "Shift3D": _median_time(_layer_step(Shift3D(shift_chance=1.0).train(), stem), 9),
        "naive": _median_time(_layer_step(NaiveShift3D(shift_chance=1.0).train(), stem), 3),
    }

    shape = "x".join(map(str, (args.batch, 1, *args.shape)))
    print(f"CPU, {args.threads} threads, batch {shape}, mean of {args.repeats} steps")
    for name, value in step_time.items():
        print(f"  train step {name:<26} {value * 1e3:9.1f} ms")
    print(f"  Shift3D layer, chance 1.0, fwd+bwd    {layer_time['Shift3D'] * 1e3:9.2f} ms")
    print(f"  naive layer,   chance 1.0, fwd+bwd    {layer_time['naive'] * 1e3:9.2f} ms")
    overhead = step_time["shiftnet3d"] / step_time["squeezenet3d"]
    worst = step_time["shiftnet3d (chance 1.0)"] / step_time["squeezenet3d"]
    print(f"ratio ShiftNet3D / SqueezeNet3D step:   {overhead:.3f} (chance 1.0: {worst:.3f})")
    print(
        f"ratio naive / ours, step (chance 0.25):  "
        f"{step_time['shiftnet3d (naive shift)'] / step_time['shiftnet3d']:.3f}"
    )
    print(
        f"ratio naive / ours, layer (chance 1.0): {layer_time['naive'] / layer_time['Shift3D']:.1f}"
    )


if __name__ == "__main__":
    main()
