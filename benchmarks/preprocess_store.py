"""Storage formats for the cropped volumes: size on disk and read time of one crop.

    python -m benchmarks.preprocess_store [--shape 200 250 250]

Compares plain .npy (read and memory-mapped), compressed .npz and NIfTI.gz on a lungs-only
crop (0 outside the lungs, as the pipeline stores it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from tests.preprocess.phantoms import chest_phantom


def _time(read, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        array = read()
        float(np.asarray(array[::7, ::7, ::7]).sum())  # touch the data (memory maps are lazy)
        np.asarray(array).sum()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(200, 250, 250))
    args = parser.parse_args()
    volume, lungs, _ = chest_phantom(tuple(args.shape), seed=0)
    volume = np.where(lungs, volume, 0).astype(np.uint16)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "v.npy", volume)
        np.savez_compressed(folder / "v.npz", volume=volume)
        sitk.WriteImage(sitk.GetImageFromArray(volume), str(folder / "v.nii.gz"), True)
        rows = [
            ("npy", "v.npy", lambda: np.load(folder / "v.npy")),
            ("npy mmap", "v.npy", lambda: np.load(folder / "v.npy", mmap_mode="r")),
            ("npz compressed", "v.npz", lambda: np.load(folder / "v.npz")["volume"]),
            (
                "nii.gz",
                "v.nii.gz",
                lambda: sitk.GetArrayFromImage(sitk.ReadImage(str(folder / "v.nii.gz"))),
            ),
        ]
        print(f"crop {tuple(args.shape)} uint16 ({volume.nbytes / 2**20:.1f} MiB in memory)")
        for name, file, read in rows:
            size = (folder / file).stat().st_size / 2**20
            print(f"{name:15s} {size:7.1f} MiB  full read {1000 * _time(read):7.1f} ms")


if __name__ == "__main__":
    main()
