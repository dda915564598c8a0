"""TrialSpec round-trips through plain dicts (Ray configs, YAML, checkpoints)."""

from __future__ import annotations

import pytest

from mtl_study.train.config import TrainConfig, TransferSpec, TrialSpec


def test_spec_round_trips_through_dict() -> None:
    spec = TrialSpec(
        model="covid_mtl",
        model_options={"shift3d": True},
        loss="random_weighted",
        loss_options={"n": 4},
        tasks=["severity"],
        inputs="both",
        seed=3,
        fold=None,
        evaluate="test",
        train=TrainConfig(epochs=2, input_shape=[8, 16, 16]),
        transfer=TransferSpec(from_checkpoint="/x/checkpoint.pt", keep_shift3d=False),
    )
    again = TrialSpec.from_dict(spec.to_dict())
    assert again == spec
    again.validate()


def test_unknown_keys_and_bad_values_are_named() -> None:
    with pytest.raises(ValueError, match="unknown keys \\['epochz'\\]"):
        TrialSpec.from_dict({"model": "m", "train": {"epochz": 3}})
    with pytest.raises(ValueError, match="needs a fold"):
        TrialSpec(model="m", fold=None, evaluate="validation").validate()
    with pytest.raises(ValueError, match="valid task names"):
        TrialSpec(model="m", tasks=["covid"], fold=0).validate()
