"""The embedded default cohort: a synthetic cohort generated once and cached.

Every command that needs a cohort and is given none uses this, so the package runs end to
end on a fresh machine without data. Generation is atomic (temp directory, then rename) and
serialised by a file lock, so concurrent processes neither corrupt nor duplicate it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from mtl_study.data.synth import DEFAULT_SHAPE, GENERATOR_VERSION, generate_cohort


def cache_dir() -> Path:
    """`$MTL_STUDY_CACHE`, or `~/.cache/mtl-study`."""
    return Path(os.environ.get("MTL_STUDY_CACHE") or Path.home() / ".cache" / "mtl-study")


def default_cohort(
    n_cases: int = 60, seed: int = 0, shape: tuple[int, int, int] = DEFAULT_SHAPE
) -> Path:
    """Path of the cached synthetic cohort for these arguments, generating it if absent."""
    root = cache_dir()
    name = f"synth-v{GENERATOR_VERSION}-n{n_cases}-s{seed}-{'x'.join(map(str, shape))}"
    target = root / name
    if (target / "cohort.yaml").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with (root / f".{name}.lock").open("w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "cohort.yaml").exists():
            return target
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}."))
        try:
            generate_cohort(staging, n_cases=n_cases, seed=seed, shape=shape, name=name)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target
