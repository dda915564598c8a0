"""Class activation maps (Grad-CAM on the last convolutional layer) as PNG overlays (SPEC 6)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def grad_cam(
    model: nn.Module, batch: dict[str, Any], task: str, target: torch.Tensor | None = None
) -> np.ndarray:
    """Grad-CAM of `task` for every volume of `batch` (Selvaraju et al. 2017).

    The maps of `model.cam_layer()` are weighted by the spatial mean of the gradient of the
    target class logit (default: the predicted class), summed over channels, rectified,
    upsampled to the input and scaled to [0, 1] per case. Works with a frozen trunk.

    Args:
        model: A TaskModel with a `cam_layer()`.
        batch: Model input with `volume` `(B, 1, D, H, W)` (and `features` if used).
        task: Which task's logit to explain.
        target: `(B,)` classes to explain instead of the predictions.

    Returns:
        `(B, D, H, W)` float32 maps.
    """
    layer = model.cam_layer()
    if layer is None:
        raise ValueError(f"{type(model).__name__} has no convolutional layer to take a CAM from")
    captured: dict[str, torch.Tensor] = {}
    handle = layer.register_forward_hook(lambda _m, _i, out: captured.__setitem__("maps", out))
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            inputs = {k: v for k, v in batch.items() if isinstance(v, torch.Tensor)}
            inputs["volume"] = inputs["volume"].detach().clone().requires_grad_(True)
            logits = model(inputs)[task]
            classes = logits.argmax(dim=1) if target is None else target.to(logits.device)
            score = logits.gather(1, classes[:, None]).sum()
            maps = captured["maps"]
            grads = torch.autograd.grad(score, maps)[0]
    finally:
        handle.remove()
        model.train(was_training)
    weights = grads.mean(dim=(2, 3, 4), keepdim=True)
    cam = F.relu((weights * maps).sum(dim=1, keepdim=True)).detach()
    cam = F.interpolate(cam, size=inputs["volume"].shape[2:], mode="trilinear", align_corners=False)
    cam = cam[:, 0]
    peak = cam.flatten(1).amax(dim=1).clamp_min(1e-12)[:, None, None, None]
    return (cam / peak).cpu().numpy().astype(np.float32)


def _pick_slices(depth: int, slices: int | Sequence[int]) -> list[int]:
    if isinstance(slices, int):
        return sorted({round(float(z)) for z in np.linspace(0, depth - 1, slices + 2)[1:-1]})
    bad = [z for z in slices if not 0 <= z < depth]
    if bad:
        raise ValueError(f"CAM slices {bad} outside 0..{depth - 1}")
    return list(slices)


def save_cam_overlays(
    model: nn.Module,
    batch: dict[str, Any],
    task: str,
    out_dir: str | Path,
    slices: int | Sequence[int] = 3,
    case_ids: Sequence[str] | None = None,
) -> list[Path]:
    """Write one PNG per case: Grad-CAM of `task` over axial slices of its input volume,
    drawn inside the lungs only (voxels above 0).

    Args:
        model: A TaskModel with a `cam_layer()`.
        batch: Model input with `volume` `(B, 1, D, H, W)`.
        task: Task to explain (predicted class).
        out_dir: Folder for `<case>_<task>.png`.
        slices: Number of evenly spaced axial slices, or their indices.
        case_ids: Names for the files (default `batch["case_id"]`, else `case<i>`).

    Returns:
        The written PNG paths.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cams = grad_cam(model, batch, task)
    volumes = batch["volume"][:, 0].detach().cpu().float().numpy()
    names = list(case_ids or batch.get("case_id") or [f"case{i}" for i in range(len(cams))])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, volume, cam in zip(names, volumes, cams, strict=True):
        picked = _pick_slices(volume.shape[0], slices)
        fig = Figure(figsize=(3 * len(picked), 3.2), dpi=100)
        FigureCanvasAgg(fig)
        for k, z in enumerate(picked):
            ax = fig.add_subplot(1, len(picked), k + 1)
            ax.imshow(volume[z], cmap="gray", interpolation="nearest")
            inside = np.ma.masked_where(volume[z] <= 0, cam[z])  # lungs only: 0 outside
            ax.imshow(inside, cmap="jet", alpha=0.4, vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_title(f"{name} {task} z={z}", fontsize=8)
            ax.axis("off")
        fig.tight_layout()
        path = out / f"{name}_{task}.png"
        fig.savefig(path)
        paths.append(path)
    return paths


def cams_from_checkpoint(
    checkpoint: str | Path,
    cohort_root: str | Path,
    case_ids: Sequence[str],
    task: str,
    out_dir: str | Path,
    slices: int | Sequence[int] = 3,
) -> list[Path]:
    """CAM overlays of a finished trial: rebuild its model from `checkpoint.pt`, prepare the
    cases' volumes as at evaluation, and `save_cam_overlays`.

    Raises:
        ValueError: The trial's model reads no volume, or `task` is not one of its tasks.
    """
    from mtl_study.data.cohort import load_cohort
    from mtl_study.preprocess.store import load_volume
    from mtl_study.train.augment import VolumeTransform
    from mtl_study.train.data import feature_matrix
    from mtl_study.train.trial import load_trained_model

    model, spec = load_trained_model(checkpoint)
    if not model.uses_volume or task not in model.tasks:
        raise ValueError(
            f"{checkpoint}: no CAM for task {task!r} (model tasks {list(model.tasks)}, "
            f"reads a volume: {model.uses_volume})"
        )
    cohort = load_cohort(cohort_root, check_paths=False)
    shape = spec.train.input_shape or load_volume(cohort.root, case_ids[0]).shape
    transform = VolumeTransform(tuple(shape), augment=False)
    batch = {
        "volume": torch.stack(
            [torch.from_numpy(transform(load_volume(cohort.root, c))) for c in case_ids]
        )
    }
    if model.uses_features:
        batch["features"] = torch.from_numpy(feature_matrix(cohort.features, case_ids, cohort.root))
    return save_cam_overlays(model, batch, task, out_dir, slices, case_ids)
