"""One chest-CT-like phantom: body, fat, ribs, spine, trachea, lungs with vessels, lesions.

The anatomy is drawn in normalised coordinates (so it scales with the volume), the local
structures (vessels, lesions) in millimetres. Lesions are cut to the lung region, so the
reference lung mask includes them, and many touch the lung wall (subpleural) so that plain
thresholding at -420 HU under-segments them, as the refinement of SPEC 2.4 expects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

AIR_HU = -1000.0
FAT_HU = -100.0
SOFT_TISSUE_HU = 40.0
BONE_HU = 700.0
LUNG_HU = -850.0
VESSEL_HU = 40.0


@dataclass(frozen=True)
class LesionProfile:
    """Lesion burden of one class: count, size relative to the lung, density mix.

    Attributes:
        base_count: Lesions every case of the class has.
        extra_mean: Poisson mean of further lesions.
        radius: Range of lesion radius as a fraction of the lung's half-width.
        consolidation: Probability that a lesion is consolidation (else ground glass).
        subpleural: Probability that a lesion sits at the lung wall.
    """

    base_count: int
    extra_mean: float
    radius: tuple[float, float]
    consolidation: float
    subpleural: float


@dataclass(frozen=True)
class Phantom:
    """A generated case: HU volume and the two reference masks, all `(D, H, W)`."""

    hu: np.ndarray
    lung: np.ndarray
    lesion: np.ndarray


def make_phantom(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    profile: LesionProfile,
    rng: np.random.Generator,
    noise_hu: float = 30.0,
) -> Phantom:
    """Draw one phantom.

    Args:
        shape: `(D, H, W)` in voxels.
        spacing: Voxel size in mm, `(z, y, x)`.
        profile: The lesion burden of the case's class.
        rng: Source of all randomness of the case.
        noise_hu: Standard deviation of the white image noise.

    Returns:
        `hu` float32 in HU, `lung` (uint8, lesions included) and `lesion` (uint8) masks.
    """
    depth, height, width = shape
    u = np.linspace(0.0, 1.0, depth, dtype=np.float32)[:, None, None]
    y = np.linspace(-1.0, 1.0, height, dtype=np.float32)[None, :, None]
    x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, None, :]
    jitter = rng.uniform(0.95, 1.05, size=8).astype(np.float32)

    body_x, body_y, body_cy = 0.92 * jitter[0], 0.72 * jitter[1], 0.02
    fat = rng.uniform(0.05, 0.11)
    body_r = (x / body_x) ** 2 + ((y - body_cy) / body_y) ** 2
    inner_r = np.sqrt((x / (body_x - fat)) ** 2 + ((y - body_cy) / (body_y - fat)) ** 2)
    body = np.broadcast_to(body_r <= 1.0, shape)
    inner = np.broadcast_to(inner_r <= 1.0, shape)

    hu = np.full(shape, AIR_HU, dtype=np.float32)
    hu[body] = FAT_HU
    hu[inner] = SOFT_TISSUE_HU

    spine = (x / 0.13) ** 2 + ((y - 0.50) / 0.13) ** 2 <= 1.0
    canal = (x / 0.05) ** 2 + ((y - 0.44) / 0.05) ** 2 <= 1.0
    hu[np.broadcast_to(spine & ~canal, shape)] = BONE_HU
    sternum = (x / 0.07) ** 2 + ((y + 0.60) / 0.04) ** 2 <= 1.0
    hu[np.broadcast_to(sternum & (u > 0.35), shape)] = BONE_HU
    ribs = _ribs(u, y, x, inner_r, rng)
    hu[ribs] = BONE_HU

    lung = _lungs(u, y, x, inner_r, jitter, shape)
    hu[lung] = LUNG_HU + 25.0 * _smooth_noise(shape, rng, sigma=2.0)[lung]

    mm = [np.arange(n, dtype=np.float32) * s for n, s in zip(shape, spacing, strict=True)]
    half_width_mm = 0.30 * width * spacing[2] / 2.0
    _vessels(hu, lung, mm, spacing, u, y, x, rng)
    _airways(hu, u, y, x, shape)

    lesion = np.zeros(shape, dtype=bool)
    n_lesions = profile.base_count + int(rng.poisson(profile.extra_mean))
    if n_lesions:
        wall = lung & ~ndimage.binary_erosion(lung, iterations=2)
        inside = np.argwhere(ndimage.binary_erosion(lung, iterations=3))
        wall_idx = np.argwhere(wall)
        texture = _smooth_noise(shape, rng, sigma=3.0)
        for _ in range(n_lesions):
            pool = wall_idx if rng.random() < profile.subpleural or not len(inside) else inside
            centre = pool[rng.integers(len(pool))]
            radius = rng.uniform(*profile.radius) * half_width_mm
            _add_lesion(hu, lesion, lung, mm, spacing, centre, radius, profile, texture, rng)

    hu = ndimage.gaussian_filter(hu, sigma=0.6)
    hu += rng.normal(0.0, noise_hu, size=shape).astype(np.float32)
    np.clip(hu, -1024.0, 3071.0, out=hu)
    return Phantom(hu=hu, lung=lung.astype(np.uint8), lesion=lesion.astype(np.uint8))


def _lungs(
    u: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    inner_r: np.ndarray,
    jitter: np.ndarray,
    shape: tuple[int, int, int],
) -> np.ndarray:
    """Two lungs: wide at the base over a domed diaphragm, tapering to the apex."""
    taper = np.sqrt(np.clip(1.0 - ((u - 0.40) / 0.60) ** 2, 0.0, 1.0))
    taper = np.where(u < 0.40, 1.0, taper).astype(np.float32)
    lungs = np.zeros(shape, dtype=bool)
    for side, j in ((-1.0, 2), (1.0, 4)):
        cx, ax, ay = side * 0.40 * jitter[j], 0.31 * jitter[j + 1], 0.50 * jitter[j]
        section = ((x - cx) / ax) ** 2 + ((y + 0.02) / ay) ** 2
        dome = 0.06 + 0.16 * np.clip(1.0 - section, 0.0, 1.0)
        lungs |= (section <= taper**2) & (u >= dome)
    heart = ((x - 0.10) / 0.30) ** 2 + ((y + 0.18) / 0.32) ** 2 + ((u - 0.22) / 0.30) ** 2 <= 1.0
    spine_zone = (x / 0.22) ** 2 + ((y - 0.50) / 0.22) ** 2 <= 1.0
    return lungs & ~heart & ~spine_zone & (inner_r <= 0.86) & (u <= 0.97)


def _ribs(
    u: np.ndarray, y: np.ndarray, x: np.ndarray, inner_r: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Rib arcs in a shell inside the chest wall, sloping down towards the front."""
    n_ribs = rng.uniform(5.0, 6.5)
    phase = u * n_ribs - 0.6 * y + rng.uniform(0.0, 1.0)
    band = (inner_r >= 0.88) & (inner_r <= 0.95) & ~((np.abs(x) < 0.18) & (y < 0))
    return band & ((phase % 1.0) < 0.28)


def _airways(hu: np.ndarray, u: np.ndarray, y: np.ndarray, x: np.ndarray, shape: tuple) -> None:
    """Trachea from the top down to the carina, and the two main bronchi."""
    trachea = ((x / 0.06) ** 2 + ((y + 0.05) / 0.06) ** 2 <= 1.0) & (u >= 0.62)
    hu[np.broadcast_to(trachea, shape)] = AIR_HU
    for side in (-1.0, 1.0):
        t = np.clip((0.62 - u) / 0.12, 0.0, 1.0)
        cx, cy = side * 0.25 * t, -0.05 + 0.03 * t
        bronchus = (
            (((x - cx) / 0.04) ** 2 + ((y - cy) / 0.04) ** 2 <= 1.0) & (u < 0.62) & (u >= 0.50)
        )
        hu[bronchus] = AIR_HU


def _vessels(
    hu: np.ndarray,
    lung: np.ndarray,
    mm: list[np.ndarray],
    spacing: tuple[float, float, float],
    u: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """A small vessel tree per lung: branches from the hilum towards random lung points."""
    points = np.argwhere(lung)
    if not len(points):
        return
    depth, height, width = lung.shape
    for side in (-1.0, 1.0):
        hilum = np.array(
            [0.48 * (depth - 1), 0.49 * (height - 1), (0.5 + side * 0.20) * (width - 1)]
        )
        same_side = points[(points[:, 2] > width / 2) == (side > 0)]
        if not len(same_side):
            continue
        for _ in range(7):
            tip = same_side[rng.integers(len(same_side))].astype(float)
            mid = hilum + (tip - hilum) * rng.uniform(0.4, 0.6)
            _segment(hu, lung, mm, spacing, hilum, tip, 1.6)
            twig = same_side[rng.integers(len(same_side))].astype(float)
            _segment(hu, lung, mm, spacing, mid, twig, 0.9)


def _segment(
    hu: np.ndarray,
    lung: np.ndarray,
    mm: list[np.ndarray],
    spacing: tuple[float, float, float],
    start: np.ndarray,
    end: np.ndarray,
    radius_mm: float,
) -> None:
    """Paint a cylinder of `radius_mm` between two voxel positions, inside the lungs only."""
    step = np.asarray(spacing, dtype=np.float32)
    a, b = start * step, end * step
    lo = np.maximum(np.floor(np.minimum(start, end) - radius_mm / step - 1), 0).astype(int)
    hi = np.minimum(np.ceil(np.maximum(start, end) + radius_mm / step + 2), lung.shape).astype(int)
    box = tuple(slice(lo[k], hi[k]) for k in range(3))
    z, yy, xx = (mm[k][box[k]] for k in range(3))
    z, yy, xx = z[:, None, None], yy[None, :, None], xx[None, None, :]
    ab = b - a
    length2 = max(float(ab @ ab), 1e-6)
    t = np.clip(((z - a[0]) * ab[0] + (yy - a[1]) * ab[1] + (xx - a[2]) * ab[2]) / length2, 0, 1)
    dz, dy, dx = z - a[0] - t * ab[0], yy - a[1] - t * ab[1], xx - a[2] - t * ab[2]
    dist2 = dz**2 + dy**2 + dx**2
    vessel = (dist2 <= radius_mm**2) & lung[box]
    hu[box][vessel] = VESSEL_HU


def _add_lesion(
    hu: np.ndarray,
    lesion: np.ndarray,
    lung: np.ndarray,
    mm: list[np.ndarray],
    spacing: tuple[float, float, float],
    centre: np.ndarray,
    radius_mm: float,
    profile: LesionProfile,
    texture: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """An irregular ellipsoidal opacity (GGO, consolidation, or GGO with a dense core)."""
    radii = radius_mm * rng.uniform(0.7, 1.3, size=3)
    step = np.asarray(spacing)
    lo = np.maximum(centre - radii / step - 2, 0).astype(int)
    hi = np.minimum(centre + radii / step + 3, lung.shape).astype(int)
    box = tuple(slice(lo[k], hi[k]) for k in range(3))
    c = centre * step
    z, yy, xx = (mm[k][box[k]] for k in range(3))
    r = (
        ((z[:, None, None] - c[0]) / radii[0]) ** 2
        + ((yy[None, :, None] - c[1]) / radii[1]) ** 2
        + ((xx[None, None, :] - c[2]) / radii[2]) ** 2
    ) + 0.35 * texture[box]
    inside = (r <= 1.0) & lung[box]
    if rng.random() < profile.consolidation:
        density = rng.uniform(-100.0, 50.0)
    else:
        density = rng.uniform(-700.0, -300.0)
    weight = np.clip((1.0 - r) / 0.35, 0.0, 1.0)
    local = hu[box]
    local[inside] = (1 - weight[inside]) * local[inside] + weight[inside] * (
        density + 40.0 * texture[box][inside]
    )
    if density < -250.0 and rng.random() < profile.consolidation:
        core = inside & (r <= 0.35)
        local[core] = rng.uniform(-100.0, 50.0)
    lesion[box] |= inside & (weight > 0.3)


def _smooth_noise(
    shape: tuple[int, int, int], rng: np.random.Generator, sigma: float
) -> np.ndarray:
    """Unit-variance smooth random field, made at low resolution and upsampled (cheap)."""
    coarse_shape = tuple(max(2, int(np.ceil(n / (2 * sigma)))) for n in shape)
    coarse = rng.standard_normal(coarse_shape).astype(np.float32)
    field = ndimage.zoom(coarse, [n / c for n, c in zip(shape, coarse_shape, strict=True)], order=1)
    field = field[: shape[0], : shape[1], : shape[2]]
    std = float(field.std()) or 1.0
    return (field - field.mean()) / std
