"""run_trial end to end on tiny volumes: learning, exact resume, no test leakage, transfer, CAM."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY_SHAPE, write_tiny_cohort
from torch import nn
from torch.utils.data import DataLoader

from mtl_study import losses, models
from mtl_study.data.cohort import load_cohort, save_cohort
from mtl_study.preprocess.store import write_case
from mtl_study.train.augment import VolumeTransform
from mtl_study.train.cam import cams_from_checkpoint, grad_cam, save_cam_overlays
from mtl_study.train.checkpoint import load_checkpoint
from mtl_study.train.config import TrainConfig, TransferSpec, TrialSpec
from mtl_study.train.data import CaseDataset, epoch_order, task_labels
from mtl_study.train.trainer import NonFiniteLossError, Trainer
from mtl_study.train.trial import load_trained_model, run_trial


def _spec(**changes) -> TrialSpec:
    spec = TrialSpec(
        model="covid_mtl",
        model_options={"shift3d": True, "shift_chance": 0.5},
        loss="random_weighted",
        tasks=["ct", "nat", "severity"],
        inputs="both",
        seed=7,
        fold=0,
        train=TrainConfig(epochs=3, batch_size=4),
    )
    for key, value in changes.items():
        setattr(spec, key, value)
    return spec


def _without_time(history: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(history).drop(columns="time_s")


def test_tiny_covid_mtl_overfits_a_handful_of_volumes(tiny_cohort: Path) -> None:
    cohort = load_cohort(tiny_cohort)
    ids = cohort.manifest["case_id"].tolist()[:8]
    tasks = ["ct", "severity"]
    dataset = CaseDataset(
        cohort.root,
        ids,
        task_labels(cohort.manifest, ids, tasks),
        None,
        VolumeTransform(TINY_SHAPE, augment=False),
    )
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    model = models.build_task_model("covid_mtl", tasks, "volume", shift3d=False)
    config = TrainConfig(epochs=40, batch_size=4, lr_max=0.01, augment=False)
    trainer = Trainer(model, losses.build("mean", tasks), tasks, config, 8, torch.device("cpu"))
    curve = [
        trainer.train_epoch(DataLoader(dataset, 4, sampler=epoch_order(8, generator, True)), e)[0]
        for e in range(config.epochs)
    ]
    assert curve[-1] < 0.1 * curve[0]
    # memorised: with batch statistics (dropout off) every training case is classified right
    model.train()
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.eval()
    with torch.no_grad():
        batch = next(iter(DataLoader(dataset, 8, sampler=epoch_order(8, generator, False))))
        logits = model({"volume": batch["volume"]})
    for task in tasks:
        assert torch.equal(logits[task].argmax(1), batch["labels"][task])


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tiny_cohort: Path, tmp_path) -> None:
    spec = _spec()
    full = run_trial(spec, tiny_cohort, checkpoint_dir=tmp_path / "full")

    class Interrupt(Exception):
        pass

    def stop_after_two(record: dict, path: Path | None) -> None:
        assert path is not None and path.exists()
        if record["epoch"] == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_trial(spec, tiny_cohort, on_epoch=stop_after_two, checkpoint_dir=tmp_path / "cut")
    seen: list[int] = []
    resumed = run_trial(
        spec,
        tiny_cohort,
        on_epoch=lambda r, _p: seen.append(r["epoch"]),
        checkpoint_dir=tmp_path / "cut",
    )
    assert seen == [3]
    pd.testing.assert_frame_equal(_without_time(resumed.history), _without_time(full.history))
    pd.testing.assert_frame_equal(resumed.predictions, full.predictions)
    state = load_checkpoint(resumed.checkpoint)  # weights_only=True
    assert state["epoch"] == 3 and len(state["history"]) == 3
    finished = run_trial(
        spec,
        tiny_cohort,
        on_epoch=lambda r, _p: seen.append(r["epoch"]),
        checkpoint_dir=tmp_path / "cut",
    )
    assert seen == [3]  # nothing left to train: the stored model is only scored again
    pd.testing.assert_frame_equal(finished.predictions, full.predictions)
    other = _spec(seed=8)
    with pytest.raises(ValueError, match=r"another trial.*seed"):
        run_trial(other, tiny_cohort, checkpoint_dir=tmp_path / "cut")


def test_record_and_prediction_columns_follow_the_contract(tiny_cohort: Path) -> None:
    out = run_trial(_spec(train=TrainConfig(epochs=1, batch_size=4)), tiny_cohort)
    record = out.history[0]
    for key in ("epoch", "train_loss", "eval_loss", "lr", "time_s"):
        assert key in record
    for task in ("ct", "nat", "severity"):
        for metric in ("precision", "recall", "f1", "accuracy", "auc"):
            assert f"{task}_{metric}" in record
    assert {"severity_auc_0", "severity_auc_1", "severity_auc_2", "severity_auc_std"} <= set(record)
    assert list(out.predictions.columns) == [
        "case_id",
        "task",
        "label",
        "pred",
        "prob_0",
        "prob_1",
        "prob_2",
    ]
    binary = out.predictions[out.predictions.task == "ct"]
    assert binary["prob_2"].isna().all()
    np.testing.assert_allclose(binary["prob_0"] + binary["prob_1"], 1.0, rtol=1e-6)
    assert out.checkpoint is None


def test_validation_never_sees_the_test_split(tiny_cohort: Path, tmp_path: Path) -> None:
    """Garbage in the test split (labels, features, volumes) changes nothing in validation."""
    spec = _spec(train=TrainConfig(epochs=2, batch_size=4))
    clean = run_trial(spec, tiny_cohort)
    cohort = load_cohort(tiny_cohort)
    test_ids = cohort.manifest.loc[cohort.manifest.split == "test", "case_id"].tolist()
    poisoned_root = write_tiny_cohort(tmp_path / "poisoned")
    manifest = cohort.manifest.copy()
    is_test = manifest.case_id.isin(test_ids)
    manifest.loc[is_test, ["ct", "nat"]] = 1 - manifest.loc[is_test, ["ct", "nat"]]
    manifest.loc[is_test, "severity"] = 2
    features = cohort.features.copy()
    features.loc[features.case_id.isin(test_ids), features.columns[1:]] = 1e12
    save_cohort(poisoned_root, manifest, features)
    for case_id in test_ids:
        write_case(
            poisoned_root,
            case_id,
            np.full(TINY_SHAPE, 4095, np.uint16),
            np.ones(TINY_SHAPE, bool),
            {},
        )
    poisoned = run_trial(spec, poisoned_root)
    pd.testing.assert_frame_equal(_without_time(poisoned.history), _without_time(clean.history))
    pd.testing.assert_frame_equal(poisoned.predictions, clean.predictions)
    fold0 = set(cohort.manifest.loc[cohort.manifest.fold == 0, "case_id"])
    assert set(clean.predictions.case_id) == fold0


def test_transfer_freezes_the_trunk_and_can_remove_shift3d(
    tiny_cohort: Path, tmp_path: Path
) -> None:
    source = run_trial(
        _spec(tasks=["ct", "nat"], inputs="volume", train=TrainConfig(epochs=1, batch_size=4)),
        tiny_cohort,
        checkpoint_dir=tmp_path / "source",
    )
    spec = _spec(
        tasks=["severity"],
        inputs="volume",
        loss="mean",
        train=TrainConfig(epochs=2, batch_size=4),
        transfer=TransferSpec(from_checkpoint=str(source.checkpoint), keep_shift3d=False),
    )
    out = run_trial(spec, tiny_cohort, checkpoint_dir=tmp_path / "transfer")
    before = load_checkpoint(source.checkpoint)["trainer"]["model"]
    after = load_checkpoint(out.checkpoint)["trainer"]["model"]
    trunk = [k for k in after if k.startswith("trunk.")]
    assert trunk and all(torch.equal(after[k], before[k]) for k in trunk)  # incl. BN statistics
    assert not any("shift3d" in k for k in after) and any("shift3d" in k for k in before)
    assert any(k.startswith("heads.severity") for k in after)
    assert not any(k.startswith("heads.ct") for k in after)
    assert set(out.predictions.task) == {"severity"}
    assert not math.isnan(out.history[-1]["train_loss"])
    # the finished trial's model comes back from its checkpoint alone, CAMs included
    model, loaded = load_trained_model(out.checkpoint)
    assert loaded == spec and model.tasks == ("severity",) and model.shift3d() is None
    paths = cams_from_checkpoint(out.checkpoint, tiny_cohort, ["c03"], "severity", tmp_path)
    assert [p.name for p in paths] == ["c03_severity.png"]


def test_nan_loss_raises(tiny_cohort: Path) -> None:
    spec = _spec(inputs="features", train=TrainConfig(epochs=5, batch_size=4, lr_max=1e12))
    with pytest.raises(NonFiniteLossError, match="epoch"):
        run_trial(spec, tiny_cohort)


def test_cam_overlays_are_written(tiny_cohort: Path, tmp_path: Path) -> None:
    cohort = load_cohort(tiny_cohort)
    ids = ["c01", "c03"]
    dataset = CaseDataset(
        cohort.root,
        ids,
        task_labels(cohort.manifest, ids, ["ct"]),
        None,
        VolumeTransform(TINY_SHAPE),
    )
    batch = next(iter(DataLoader(dataset, 2, sampler=[(0, -1), (1, -1)])))
    model = models.build_task_model("covid_mtl", ["ct", "nat"], "volume")
    model.freeze_trunk()  # CAMs must also work on a transferred (frozen) model
    cams = grad_cam(model, {"volume": batch["volume"]}, "ct")
    assert cams.shape == (2, *TINY_SHAPE)
    assert cams.min() >= 0 and cams.max() <= 1 + 1e-6
    paths = save_cam_overlays(model, {"volume": batch["volume"]}, "ct", tmp_path, case_ids=ids)
    assert [p.name for p in paths] == ["c01_ct.png", "c03_ct.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)


def test_dataloader_workers_do_not_change_the_result(tiny_cohort: Path) -> None:
    spec = _spec(inputs="volume", train=TrainConfig(epochs=1, batch_size=4))
    alone = run_trial(spec, tiny_cohort)
    spec.train.num_workers = 2
    workers = run_trial(spec, tiny_cohort)
    pd.testing.assert_frame_equal(_without_time(workers.history), _without_time(alone.history))
    pd.testing.assert_frame_equal(workers.predictions, alone.predictions)
