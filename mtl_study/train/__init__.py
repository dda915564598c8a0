"""One trial: configuration, data, the SGD loop, metrics, checkpoints, transfer and CAMs.

Example:
    >>> from mtl_study.train import TrialSpec, TrainConfig, run_trial
    >>> spec = TrialSpec(model="covid_mtl", tasks=["ct", "nat"], inputs="features",
    ...                  fold=0, train=TrainConfig(epochs=20))
    >>> output = run_trial(spec, "path/to/cohort")
"""

from __future__ import annotations

from mtl_study.train.config import Evaluate, TrainConfig, TransferSpec, TrialSpec
from mtl_study.train.metrics import METRICS, task_metrics
from mtl_study.train.trainer import NonFiniteLossError
from mtl_study.train.trial import TrialOutput, run_trial

__all__ = [
    "METRICS",
    "Evaluate",
    "NonFiniteLossError",
    "TrainConfig",
    "TransferSpec",
    "TrialOutput",
    "TrialSpec",
    "run_trial",
    "task_metrics",
]
