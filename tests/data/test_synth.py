"""The synthetic cohort: realistic anatomy, class structure of the real cohort, determinism."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mtl_study.data.cohort import load_cohort
from mtl_study.data.synth import CLASSES, class_counts, generate_cohort, plan_cases
from mtl_study.io import read_mask, read_scan

SMALL = {"shape": (24, 40, 40), "spacing": (3.0, 2.4, 2.4), "n_folds": 2}


@pytest.fixture(scope="module")
def default_size(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """60 cases at 64 x 96 x 96 (the embedded default), with the CPU seconds it took.

    CPU time of this one process, so that other load on the machine does not count.
    """
    out = tmp_path_factory.mktemp("synth") / "cohort"
    start = time.process_time()
    generate_cohort(out, n_cases=60, seed=0)
    return out, time.process_time() - start


def test_class_shares_follow_the_real_cohort() -> None:
    assert class_counts(1329) == [309, 259, 22, 540, 199]
    assert class_counts(60) == [14, 12, 1, 24, 9]
    assert sum(class_counts(7)) == 7
    plan = plan_cases(1329, seed=0)
    assert plan["ct"].sum() == 998 and plan["nat"].sum() == 761
    assert plan["severity"].value_counts().sort_index().tolist() == [568, 562, 199]
    labels = {(c.ct, c.nat, c.severity) for c in CLASSES}
    assert set(map(tuple, plan[["ct", "nat", "severity"]].to_numpy())) == labels


def test_default_size_is_fast_and_valid(default_size: tuple[Path, float]) -> None:
    out, seconds = default_size
    assert seconds < 30, f"60 cases took {seconds:.1f} CPU s"
    cohort = load_cohort(out)
    assert len(cohort.manifest) == 60
    assert cohort.meta["source"] == "synthetic"
    assert (cohort.manifest["split"] == "test").sum() == 18
    scan = read_scan(cohort.image_path(cohort.case_ids[0]))
    assert scan.shape == (64, 96, 96)
    np.testing.assert_allclose(scan.spacing, (1.25, 1.0, 1.0), rtol=1e-6)


def test_anatomy_intensities(default_size: tuple[Path, float]) -> None:
    cohort = load_cohort(default_size[0])
    case = cohort.case_ids[0]
    hu = read_scan(cohort.image_path(case)).hu.astype(float)
    lung, _ = read_mask(cohort.mask_path(case))
    lesion, _ = read_mask(cohort.lesion_path(case))
    assert abs(np.median(hu[:, :3, :3]) + 1000) < 40  # air outside the body
    healthy_lung = (lung > 0) & (lesion == 0)
    assert -900 < np.median(hu[healthy_lung]) < -780
    assert np.percentile(hu, 99.5) > 400  # ribs and spine
    body = hu[:, 48, 2:94]
    assert ((body > -200) & (body < 100)).any()  # soft tissue and fat
    middle = hu[hu.shape[0] * 4 // 5, :, 44:52]  # trachea: air inside the body, upper chest
    assert (middle[30:60] < -800).any()
    assert lung.sum() > 0.08 * lung.size
    assert not (lesion & ~lung.astype(bool)).any()  # lesions lie inside the lung mask
    for side in (lung[:, :, :48], lung[:, :, 48:]):
        assert side.sum() > 0.03 * lung.size  # two lungs


def test_lesions_learnable_not_trivial_and_hard_to_threshold(
    default_size: tuple[Path, float],
) -> None:
    cohort = load_cohort(default_size[0])
    manifest = cohort.manifest
    volume, under = [], []
    for case in manifest["case_id"]:
        lesion, _ = read_mask(cohort.lesion_path(case))
        hu = read_scan(cohort.image_path(case)).hu
        volume.append(lesion.sum())
        if lesion.sum():
            under.append(((hu >= -420) & (lesion > 0)).sum() / lesion.sum())
    volume = np.array(volume)
    mean = {k: volume[(manifest["severity"] == k).to_numpy()].mean() for k in range(3)}
    assert mean[2] > 2 * mean[1] > 0
    for task in ("ct", "nat"):
        auc = roc_auc_score(manifest[task], volume)
        assert 0.7 < auc < 1.0, f"{task}: lesion volume alone gives AUC {auc:.3f}"
    # plain thresholding at -420 HU misses a good part of the lesions
    assert np.mean(under) > 0.15


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = load_cohort(generate_cohort(tmp_path / "a", n_cases=20, seed=5, **SMALL))
    again = load_cohort(generate_cohort(tmp_path / "b", n_cases=20, seed=5, **SMALL))
    other = load_cohort(generate_cohort(tmp_path / "c", n_cases=20, seed=6, **SMALL))
    assert first.manifest.drop(columns=["image", "mask", "lesion"]).equals(
        again.manifest.drop(columns=["image", "mask", "lesion"])
    )
    case = first.case_ids[3]
    np.testing.assert_array_equal(
        read_scan(first.image_path(case)).array, read_scan(again.image_path(case)).array
    )
    assert not np.array_equal(
        read_scan(first.image_path(case)).array, read_scan(other.image_path(case)).array
    )


def test_workers_give_the_same_cohort(tmp_path: Path) -> None:
    serial = load_cohort(generate_cohort(tmp_path / "s", n_cases=20, seed=1, **SMALL))
    parallel = load_cohort(generate_cohort(tmp_path / "p", n_cases=20, seed=1, workers=2, **SMALL))
    assert serial.content_hash == parallel.content_hash
    case = serial.case_ids[-1]
    np.testing.assert_array_equal(
        read_mask(serial.lesion_path(case))[0], read_mask(parallel.lesion_path(case))[0]
    )


def test_too_few_cases_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot be split"):
        generate_cohort(tmp_path / "tiny", n_cases=4, seed=0, shape=(16, 24, 24))
