"""Training throughput (volumes/s) and peak memory of the trial's SGD step, per model.

Each model runs in a fresh process so its peak memory is its own. On CPU the default input
is 64 x 96 x 96; with a GPU, pass `--device cuda --shape 200 250 250` for the paper's crop
(AMP and channels_last_3d are switched on by the trainer). The augmentation rate of the
CPU data path (`VolumeTransform`) is printed too: it must keep up with the model.

    python benchmarks/train_throughput.py [--shape 64 96 96] [--batch 2] [--steps 4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time

import numpy as np
import torch

MODELS: dict[str, tuple[str, ...]] = {
    "squeezenet3d": ("ct",),
    "shiftnet3d": ("ct",),
    "covid_mtl": ("ct", "nat", "severity"),
}


def _measure(
    name: str, shape: tuple[int, int, int], batch: int, steps: int, device: str, threads: int
) -> dict[str, float]:
    """Volumes/s over `steps` SGD steps (after one warm-up step) and peak memory in MiB."""
    from mtl_study import losses, models
    from mtl_study.train.config import TrainConfig
    from mtl_study.train.trainer import Trainer, resolve_device

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tasks = MODELS[name]
    dev = resolve_device(device)
    model = models.build_task_model(name, tasks, "volume")
    model.set_generator(torch.Generator().manual_seed(0))
    config = TrainConfig(epochs=1, batch_size=batch, device=device)
    trainer = Trainer(model, losses.build("mean", tasks), tasks, config, batch * (steps + 1), dev)
    data = {
        "index": torch.arange(batch),
        "volume": torch.rand(batch, 1, *shape),
        "labels": {t: torch.arange(batch) % 2 for t in tasks},
    }
    trainer.train_epoch([data], 0)  # warm-up: allocator, cuDNN autotuning
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    trainer.train_epoch([data] * steps, 1)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if dev.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return {"volumes_per_s": batch * steps / elapsed, "step_s": elapsed / steps, "peak_mib": peak}


def _augment_rate(shape: tuple[int, int, int], n: int = 8) -> float:
    """Volumes/s of the CPU augmentation path (normalise, rotate, flip, translate)."""
    from mtl_study.train.augment import VolumeTransform

    volume = np.random.default_rng(0).integers(0, 1600, size=shape).astype(np.uint16)
    transform = VolumeTransform(shape)
    start = time.perf_counter()
    for seed in range(n):
        transform(volume, seed)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=[64, 96, 96])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    shape = tuple(args.shape)
    memory = "peak GPU MiB" if args.device.startswith("cuda") else "peak RSS MiB"
    print(
        f"training step, input {args.batch} x 1 x {' x '.join(map(str, shape))}, "
        f"{args.device}, {args.threads} threads"
    )
    print(f"{'model':<14}{'volumes/s':>11}{'s/step':>9}{memory:>15}")
    ctx = mp.get_context("spawn")
    for name in args.models:
        with ctx.Pool(1) as pool:
            result = pool.apply(
                _measure, (name, shape, args.batch, args.steps, args.device, args.threads)
            )
        print(
            f"{name:<14}{result['volumes_per_s']:>11.2f}{result['step_s']:>9.2f}"
            f"{result['peak_mib']:>15.0f}"
        )
    print(f"augmentation (CPU, 1 process): {_augment_rate(shape):.1f} volumes/s")


if __name__ == "__main__":
    main()
