"""Study files and search spaces: validation errors name the file, key and valid choices."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mtl_study.study.search import load_space, shipped_spaces
from mtl_study.study.spec import (
    StudyError,
    apply_override,
    load_study,
    shipped_studies,
    study_from_dict,
)


def test_shipped_studies_load_and_quick_preset_shrinks() -> None:
    assert {"ablation", "comparison", "features", "quick"} <= set(shipped_studies())
    for name in shipped_studies():
        study = load_study(name)
        assert study.grid and study.seeds
    full = load_study("ablation")
    assert full.preprocess["crop_shape"] == [200, 250, 250]
    assert full.train["epochs"] == 80 and full.train["batch_size"] == 10
    small = load_study("ablation", preset="quick", overrides=["train.epochs=3"])
    assert small.train["epochs"] == 3
    assert small.preprocess["crop_shape"] != [200, 250, 250]
    assert small.study_hash != full.study_hash


def test_unknown_model_names_file_key_choices_and_nearest(tmp_path: Path, tiny_study) -> None:
    path = tmp_path / "bad.yaml"
    data = tiny_study(grid=[{"model": "covid_mlt", "loss": "mean"}])
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(StudyError) as err:
        load_study(path)
    text = str(err.value)
    assert str(path) in text and "grid[0]: model" in text
    assert "'covid_mtl'" in text and "did you mean 'covid_mtl'" in text
    assert "squeezenet3d" in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"grid": [{"model": "covid_mtl", "loss": "randomweighted"}]}, "random_weighted"),
        ({"grid": [{"model": "covid_mtl", "tasks": ["ct", "severty"]}]}, "severity"),
        ({"grid": [{"model": "covid_mtl", "shift3d": "yes"}]}, "true/false"),
        ({"grid": [{"model": "covid_mtl", "dirichlet_n": 0}]}, "dirichlet_n"),
        ({"grid": [{"loss": "mean"}]}, "needs a `model`"),
        ({"metric": "nat_acc"}, "nat_accuracy"),
        ({"mode": "maximum"}, "max"),
        ({"evaluate": "validation"}, "cv"),
        ({"trian": {"epochs": 1}}, "did you mean 'train'"),
        ({"train": {"epoch": 1}}, "did you mean 'epochs'"),
        ({"preprocess": {"crop_shape": [1, 2]}}, "crop_shape"),
        ({"preprocess": {"segmenter": "refind"}}, "refined"),
        ({"preprocess": {"feature_set": "first_order"}}, "did you mean 'firstorder'"),
        ({"resources": {"gpu": -1}}, "gpu"),
    ],
)
def test_invalid_values_are_rejected_with_hint(tiny_study, change: dict, expected: str) -> None:
    with pytest.raises(StudyError, match=r"x\.yaml") as err:
        study_from_dict(tiny_study(**change), source="x.yaml")
    assert expected in str(err.value)


def test_overrides_parse_yaml_values_and_reject_unknown_keys(tiny_study) -> None:
    data = apply_override(tiny_study(), "train.epochs=5")
    assert data["train"]["epochs"] == 5
    data = apply_override(data, "grid.0.loss=[mean, uncertainty]")
    assert data["grid"][0]["loss"] == ["mean", "uncertainty"]
    study = study_from_dict(tiny_study(), overrides=["seeds=[1, 2]", "resources.gpu=0.25"])
    assert study.seeds == [1, 2] and study.resources["gpu"] == 0.25
    with pytest.raises(StudyError, match="did you mean 'train'"):
        apply_override(tiny_study(), "trains.epochs=1")
    with pytest.raises(StudyError, match=r"key\.path=value"):
        apply_override(tiny_study(), "train.epochs")


def test_unknown_study_and_preset_list_choices(tiny_study) -> None:
    with pytest.raises(StudyError, match="did you mean 'quick'"):
        load_study("quik")
    with pytest.raises(StudyError, match="presets"):
        study_from_dict(tiny_study(), preset="fast")


def test_search_spaces_validate(tmp_path: Path) -> None:
    assert {"dirichlet_n", "max_shift"} <= set(shipped_spaces())
    n = load_space("dirichlet_n")["params"]["dirichlet_n"]
    assert n["type"] == "int" and n["log"] and n["low"] == 1 and n["high"] >= 32
    p = load_space("max_shift")["params"]["max_shift"]
    assert p["low"] == 0.0 and p["high"] == 0.5
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump({"params": {"dirichlet": {"type": "int", "low": 1, "high": 2}}}),
        encoding="utf-8",
    )
    with pytest.raises(StudyError, match="did you mean 'dirichlet_n'"):
        load_space(bad)
    bad.write_text(yaml.safe_dump({"params": {"max_shift": {"type": "normal"}}}), encoding="utf-8")
    with pytest.raises(StudyError, match="type must be one of"):
        load_space(bad)
    with pytest.raises(StudyError, match="did you mean 'max_shift'"):
        load_space("max_shfit")
