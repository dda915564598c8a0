"""AFNN input scaling on heavy-tailed features, synthetic and real."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mtl_study import models
from mtl_study.models.afnn import FeatureScaler


def _heavy(n: int = 200, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    small = torch.rand(n, 2, generator=g) * 1e-4
    centred = torch.randn(n, 2, generator=g)
    huge = torch.exp(torch.randn(n, 2, generator=g) * 3) * 1e9  # up to ~1e12 and beyond
    return torch.cat([small, centred, huge], dim=1)


def test_scaler_logs_heavy_columns_and_standardises_training_split():
    train = _heavy()
    scaler = FeatureScaler(6).fit(train)
    assert scaler.log_columns.tolist() == [False, False, False, False, True, True]
    z = scaler(train)
    assert torch.isfinite(z).all()
    assert torch.allclose(z.mean(0), torch.zeros(6), atol=1e-3)
    assert torch.allclose(z.std(0, unbiased=False), torch.ones(6), atol=1e-3)


def test_scaler_handles_missing_constant_and_outlying_values():
    train = _heavy()
    train[:, 3] = 7.0
    train[0, 0] = float("nan")
    scaler = FeatureScaler(6).fit(train)
    test = _heavy(5, seed=1)
    test[0, 1] = float("nan")
    test[1, 2] = 1e30
    z = scaler(test)
    assert torch.isfinite(z).all()
    assert z[0, 1] == 0.0 and z[1, 2] == scaler.clip


def test_unfitted_scaler_says_what_to_do():
    model = models.build_task_model("afnn", ["ct"], "features", n_features=6)
    with pytest.raises(RuntimeError, match="fit_feature_scaler"):
        model({"features": _heavy(2)})
    with pytest.raises(ValueError, match=r"\(N, 6\)"):
        model.fit_feature_scaler(torch.rand(4, 5))


def test_afnn_hidden_layers():
    net = models.build("afnn", n_features=375)
    widths = [m.out_features for m in net.encoder.layers if isinstance(m, torch.nn.Linear)]
    assert widths == [256, 128, 64, 32]


def test_scaler_on_real_covid_mtl_features(covid_mtl_data):
    frame = pd.read_csv(covid_mtl_data / "features.csv.gz")
    values = frame.drop(columns=[c for c in frame.columns if c == "PID"]).to_numpy(np.float64)
    assert values.shape[1] == 375
    train, test = values[:900], values[900:]
    model = models.build_task_model("afnn", ["ct", "nat", "severity"], "features")
    model.fit_feature_scaler(train)
    scaler = model.afnn.scaler
    assert int(scaler.log_columns.sum()) > 0
    z_train = scaler(torch.as_tensor(train, dtype=torch.float32))
    z_test = scaler(torch.as_tensor(test, dtype=torch.float32))
    assert torch.isfinite(z_test).all()
    assert float(z_train.mean(0).abs().max()) < 1e-2
    assert float(z_test.abs().median()) < 1.5
    model.eval()
    out = model({"features": torch.as_tensor(test[:4], dtype=torch.float32)})
    assert out["severity"].shape == (4, 3) and torch.isfinite(out["severity"]).all()
