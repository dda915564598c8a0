"""COVID-MTL variants, transfer operations, checkpoint round trip and a tiny overfit."""

from __future__ import annotations

import torch
from torch import nn

from mtl_study import losses, models
from mtl_study.models.shift3d import Shift3D

SHAPE = (16, 24, 24)


def test_variants_shift3d_afnn_and_tasks():
    plain = models.build_task_model("covid_mtl", ["ct", "nat"], "volume", shift3d=False)
    assert plain.shift3d() is None and not plain.uses_features
    both = models.build_task_model("covid_mtl", ["ct", "nat"], "both", n_features=7)
    assert isinstance(both.shift3d(), Shift3D) and both.uses_features and both.uses_volume
    feats = models.build_task_model("covid_mtl", ["severity"], "features", n_features=7)
    assert not feats.uses_volume and feats.cam_layer() is None
    assert feats.tasks == ("severity",)
    both.fit_feature_scaler(torch.rand(10, 7))
    out = both({"volume": torch.randn(2, 1, *SHAPE), "features": torch.rand(2, 7)})
    assert set(out) == {"ct", "nat"}
    # the AFNN embedding reaches every head's classifier (32 + 32 inputs)
    assert all(head.classifier.in_features == 64 for head in both.heads.values())


def test_missing_batch_key_names_it():
    model = models.build_task_model("covid_mtl", ["ct"], "both", n_features=4)
    try:
        model({"volume": torch.randn(1, 1, *SHAPE)})
    except KeyError as error:
        assert "features" in str(error)
    else:
        raise AssertionError("missing features must fail")


def test_transfer_freezes_trunk_replaces_heads_and_toggles_shift3d():
    model = models.build_task_model("covid_mtl", ["ct", "nat"], "volume")
    model.freeze_trunk()
    model.replace_heads(["severity"])
    model.train()
    assert model.tasks == ("severity",)
    assert all(not p.requires_grad for p in model.trunk.parameters())
    assert all(p.requires_grad for p in model.heads.parameters())
    assert all(
        isinstance(m, nn.Linear | nn.ReLU | nn.Dropout | nn.Flatten | nn.AdaptiveAvgPool3d)
        for m in model.heads["severity"].representation
    )
    norm = next(m for m in model.trunk.modules() if isinstance(m, nn.BatchNorm3d))
    before = norm.running_mean.clone()
    out = model({"volume": torch.randn(2, 1, *SHAPE)})
    assert out["severity"].shape == (2, 3)
    assert torch.equal(norm.running_mean, before), "frozen BatchNorm statistics moved"
    assert model.shift3d() is not None and model.shift3d().training
    model.set_shift3d(False)
    assert model.shift3d() is None
    model.set_shift3d(True, shift_chance=0.5)
    assert model.shift3d().shift_chance == 0.5


def test_state_dict_round_trip_restores_outputs_scaler_and_shift_step():
    options = {"n_features": 5, "total_steps": 100}
    first = models.build_task_model("covid_mtl", ["ct", "severity"], "both", **options)
    first.fit_feature_scaler(torch.rand(12, 5) * 1e9)
    batch = {"volume": torch.randn(2, 1, *SHAPE), "features": torch.rand(2, 5) * 1e9}
    first.train()
    first(batch)
    second = models.build_task_model("covid_mtl", ["ct", "severity"], "both", **options)
    second.load_state_dict(first.state_dict())
    first.eval()
    second.eval()
    expected, got = first(batch), second(batch)
    assert all(torch.equal(expected[t], got[t]) for t in expected)
    assert int(second.shift3d().step) == 1


def test_tiny_covid_mtl_overfits_synthetic_volumes():
    torch.manual_seed(0)
    n = 6
    volumes = torch.randn(n, 1, *SHAPE) * 0.1
    labels = {"ct": torch.tensor([0, 1, 0, 1, 0, 1]), "nat": torch.tensor([1, 1, 0, 0, 1, 0])}
    for i in range(n):  # a bright blob whose place encodes the labels
        z = 2 + 8 * int(labels["ct"][i])
        y = 3 + 12 * int(labels["nat"][i])
        volumes[i, 0, z : z + 5, y : y + 6, 8:16] += 2.0
    model = models.build_task_model("covid_mtl", ["ct", "nat"], "volume", shift_chance=0.25)
    model.set_generator(torch.Generator().manual_seed(0))
    loss = losses.build("random_weighted", ["ct", "nat"], torch.Generator().manual_seed(0))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    history = []
    for _ in range(40):
        optimiser.zero_grad()
        out = model({"volume": volumes})
        total = loss({t: nn.functional.cross_entropy(out[t], labels[t]) for t in out})
        total.backward()
        optimiser.step()
        history.append(total.item())
    # BatchNorm momentum 0.01 (SPEC) barely moves running statistics in 40 steps: recompute
    # them over the training volumes before evaluating.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm3d):
                module.reset_running_stats()
                module.momentum = None
        model({"volume": volumes})
    model.eval()
    with torch.no_grad():
        out = model({"volume": volumes})
    assert history[-1] < 0.25 * history[0]
    for task in ("ct", "nat"):
        assert torch.equal(out[task].argmax(1), labels[task]), task


def test_device_dtype_and_memory_format_moves_keep_shift3d_working():
    model = models.build_task_model("covid_mtl", ["ct"], "volume", shift_chance=1.0)
    model.to(torch.float64).to(memory_format=torch.channels_last_3d).train()
    assert model.shift3d().step.dtype == torch.long
    volume = torch.randn(2, 1, *SHAPE, dtype=torch.float64).to(memory_format=torch.channels_last_3d)
    out = model({"volume": volume})
    assert out["ct"].dtype == torch.float64 and torch.isfinite(out["ct"]).all()
    model.float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model({"volume": volume.float()})
    assert torch.isfinite(out["ct"].float()).all()
    assert int(model.shift3d().step) == 2
