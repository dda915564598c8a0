"""Connecting to Ray: a loopback-only local runtime by default, or an existing cluster.

Ray opens its ports on every interface unless told otherwise, and on these machines it
resolves 127.0.0.1 to the external interface address; a local run therefore pins the node
address to 127.0.0.1, binds the dashboard (when enabled) to 127.0.0.1 and sets
`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0` before Ray is imported.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from mtl_study.study.spec import StudyError

#: Host used for everything a local run starts.
LOOPBACK = "127.0.0.1"
#: Object store size for a local runtime: trials read volumes from disk, not the store.
LOCAL_OBJECT_STORE_BYTES = 256 * 1024**2

_ADDRESS = re.compile(r"^(ray://)?[A-Za-z0-9_.\-\[\]:]+:\d+$")


def loopback_env() -> None:
    """Environment that keeps Ray on loopback and quiet; call before importing ray."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")


def check_address(address: str | None) -> str | None:
    """Validate `--address`: `auto`, `host:port` (GCS, e.g. 6379) or `ray://host:10001`.

    Raises:
        StudyError: The address has none of these forms.
    """
    if address is None or address == "":
        return None
    if address == "auto" or _ADDRESS.match(address):
        return address
    raise StudyError(
        f"--address {address!r}: expected 'auto', 'host:port' (e.g. 127.0.0.1:6379) "
        "or 'ray://host:10001'"
    )


@dataclass
class RayRuntime:
    """A Ray connection; `owned` when this call initialised it (and must shut it down: that
    stops a local runtime, and only disconnects from a cluster it joined)."""

    address: str | None
    owned: bool
    dashboard_url: str | None

    def shutdown(self) -> None:
        """Stop a local runtime started here, or disconnect from a joined cluster."""
        import ray

        if self.owned and ray.is_initialized():
            ray.shutdown()


def connect(
    address: str | None = None,
    num_cpus: int | None = None,
    num_gpus: int | None = None,
    dashboard: bool = False,
) -> RayRuntime:
    """Join `address`, reuse an initialised runtime, or start a loopback-only local one.

    Args:
        address: None for a local runtime; see `check_address` for the others.
        num_cpus: CPUs of a local runtime (default: all).
        num_gpus: GPUs of a local runtime (default: detected).
        dashboard: Start the dashboard of a local runtime (on 127.0.0.1).
    """
    loopback_env()
    import ray

    address = check_address(address)
    if ray.is_initialized():
        return RayRuntime(address=address, owned=False, dashboard_url=None)
    common = {"log_to_driver": False, "logging_level": "ERROR", "configure_logging": True}
    if dashboard and address is None and _dashboard_missing():
        raise StudyError(
            f"--dashboard needs Ray's dashboard packages ({_dashboard_missing()}): "
            "pip install 'ray[default]'"
        )
    if address is None:
        context = ray.init(
            _node_ip_address=LOOPBACK,
            include_dashboard=dashboard,
            dashboard_host=LOOPBACK,
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            **common,
        )
        owned = True
    else:
        kwargs = dict(common)
        host = address.removeprefix("ray://").rsplit(":", 1)[0]
        if host in (LOOPBACK, "localhost"):
            kwargs["_node_ip_address"] = LOOPBACK
        context = ray.init(address=address, **kwargs)
        owned = True
    url = getattr(context, "dashboard_url", None) or None
    if url and not url.startswith("http"):
        url = f"http://{url}"
    return RayRuntime(address=address, owned=owned, dashboard_url=url)


def _dashboard_missing() -> str | None:
    """Why Ray's optional dashboard cannot start here, or None when it can."""
    from ray._private import utils

    check = getattr(utils, "get_dashboard_dependency_error", None)
    error = check() if check is not None else None
    return str(error) if error else None
