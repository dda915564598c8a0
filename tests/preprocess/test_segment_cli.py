"""`mtl-study segment` on a phantom and on the real chest CT lung1."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi
from typer.testing import CliRunner

from mtl_study.cli.main import app
from mtl_study.io import Scan, read_mask, read_scan, write_scan
from tests.preprocess.phantoms import chest_phantom


def _litres(output: str) -> list[float]:
    line = next(x for x in output.splitlines() if x.startswith("lungs"))
    return [float(v) for v in re.findall(r"([\d.]+) L", line.split("total")[0])]


def test_segment_phantom_writes_mask_and_overlay(tmp_path: Path) -> None:
    volume, reference, _ = chest_phantom((40, 72, 72), seed=2)
    scan_path = write_scan(tmp_path / "chest.nii.gz", Scan(volume, spacing=(2.0, 0.8, 0.8)))
    result = CliRunner().invoke(app, ["segment", str(scan_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    mask, spacing = read_mask(tmp_path / "out" / "chest_lungs.nii.gz")
    assert mask.shape == volume.shape and spacing == pytest.approx((2.0, 0.8, 0.8))
    overlap = 2 * (mask.astype(bool) & reference).sum() / (mask.sum() + reference.sum())
    assert overlap > 0.9
    assert (tmp_path / "out" / "chest_overlay.png").stat().st_size > 1000
    litres = _litres(result.output)
    assert len(litres) == 2
    assert sum(litres) == pytest.approx(reference.sum() * 2.0 * 0.64 * 1e-6, rel=0.1)


def test_segment_errors_name_the_problem(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["segment", str(tmp_path / "nope.nrrd"), "-o", str(tmp_path)])
    assert missing.exit_code == 1 and "nope.nrrd" in missing.output
    volume, _, _ = chest_phantom((8, 16, 16))
    scan_path = write_scan(tmp_path / "small.nii.gz", Scan(volume))
    unknown = runner.invoke(app, ["segment", str(scan_path), "-o", str(tmp_path), "-s", "clasical"])
    assert unknown.exit_code == 1 and "did you mean 'classical'" in unknown.output


def test_lung1_gives_two_plausible_lungs_inside_the_body(lung1_ct: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["segment", str(lung1_ct), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    litres = _litres(result.output)
    assert len(litres) == 2, result.output
    assert 2.5 <= sum(litres) <= 8.0
    assert min(litres) > 0.25 * max(litres)
    mask, _ = read_mask(tmp_path / "lung1_image_lungs.nii.gz")
    scan = read_scan(lung1_ct)
    body = np.stack([ndi.binary_fill_holes(s) for s in scan.array > 604])
    assert mask.astype(bool)[~body].sum() == 0
    tumour, _ = read_mask(lung1_ct.parent / "lung1_label.nrrd")
    assert (mask.astype(bool) & tumour.astype(bool)).sum() > 0.9 * tumour.sum()
