"""A real two-node Ray cluster on 127.0.0.1: a study joins it with an address, uses both nodes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mtl_study.study.runner import run_study
from mtl_study.study.spec import study_from_dict

pytestmark = pytest.mark.ray

SMALL_STORE = 80 * 1024**2


def test_study_runs_on_both_nodes_of_a_loopback_cluster(
    tmp_path: Path, tiny_cohort: Path, tiny_study
) -> None:
    import ray
    from ray.cluster_utils import Cluster

    assert not ray.is_initialized()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "resources": {"head": 1},
            "object_store_memory": SMALL_STORE,
            "include_dashboard": False,
        },
    )
    try:
        second = cluster.add_node(
            num_cpus=1, resources={"second": 1}, object_store_memory=SMALL_STORE
        )
        cluster.wait_for_nodes()
        data = tiny_study(
            grid=[
                {
                    "model": "covid_mtl",
                    "name": "on_head",
                    "loss": ["mean", "random_weighted"],
                    "tasks": ["ct", "nat"],
                    "resources": {"cpu": 1, "custom": {"head": 1}},
                },
                {
                    "model": "covid_mtl",
                    "name": "on_second",
                    "loss": ["mean", "random_weighted"],
                    "tasks": ["ct", "nat"],
                    "resources": {"cpu": 1, "custom": {"second": 1}},
                },
            ],
            train={"epochs": 1, "batch_size": 8},
        )
        out = run_study(
            study_from_dict(data),
            tmp_path / "out",
            data=tiny_cohort,
            address=cluster.address,
            progress=False,
            report=False,
        )
        assert not ray.is_initialized()  # the driver disconnected; the cluster lives on
        trials = pd.read_parquet(out / "trials.parquet").groupby("trial_id").tail(1)
        assert (trials["status"] == "TERMINATED").all() and len(trials) == 4
        assert (trials["node_ip"] == "127.0.0.1").all()
        nodes = trials.set_index("variant")["node_id"]
        assert nodes.nunique() == 2
        assert set(nodes[nodes.index.str.startswith("on_second")]) == {second.node_id}
        assert second.node_id not in set(nodes[nodes.index.str.startswith("on_head")])
    finally:
        ray.shutdown()
        cluster.shutdown()
