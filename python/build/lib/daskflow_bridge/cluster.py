"""Cluster creation / connection for the bridge's `start` request (docs/bridge-protocol.md §1)."""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from distributed import Client

DEFAULT_CLUSTER_CLASS = "distributed.LocalCluster"

Log = Callable[[str, str], None]


class BridgeConfigError(ValueError):
    """Invalid `start` options (the message says which and why)."""


class ClusterClassImportError(ImportError):
    """The cluster class path could not be imported."""


@dataclass
class Connection:
    client: Client
    cluster: Any = None
    created: bool = False
    plugin_preinstalled: bool = False
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    async def close(self) -> None:
        try:
            await self.client.close()
        finally:
            if self.created and self.cluster is not None:
                res = self.cluster.close()
                if inspect.isawaitable(res):
                    await res


def _check_kwargs(name: str, kwargs: Any) -> dict[str, Any]:
    if kwargs is None:
        return {}
    if not isinstance(kwargs, dict):
        raise BridgeConfigError(f"{name} must be a map of keyword arguments, got {type(kwargs).__name__}")
    if "asynchronous" in kwargs:
        raise BridgeConfigError(
            f"`asynchronous` is not allowed in {name}: the DaskTaskRunner manages the client's asynchronous mode"
        )
    return dict(kwargs)


def import_cluster_class(path: str) -> type:
    if not isinstance(path, str) or "." not in path.strip("."):
        raise ClusterClassImportError(
            f"cluster class must be a Python import path like 'distributed.LocalCluster', got {path!r}"
        )
    mod_name, _, attr = path.rpartition(".")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as exc:
        raise ClusterClassImportError(
            f"cannot import cluster class {path!r}: {exc}. Is the package that provides it installed in the "
            f"Python environment used by daskflow ({sys.executable})?"
        ) from exc
    try:
        cls = getattr(mod, attr)
    except AttributeError:
        raise ClusterClassImportError(
            f"cannot import cluster class {path!r}: module {mod_name!r} has no attribute {attr!r}"
        ) from None
    if not callable(cls):
        raise ClusterClassImportError(f"cluster class {path!r} is not a class or callable")
    return cls


def _is_local_cluster(cls: Any) -> bool:
    from distributed import LocalCluster

    return isinstance(cls, type) and issubclass(cls, LocalCluster)


async def connect(req: dict[str, Any], log: Log, worker_plugin: Any = None) -> Connection:
    """Create the cluster (or connect to ``address``) and an asynchronous Client, per the `start` request.

    ``worker_plugin``: for a LocalCluster it is handed to the workers as they are built, so their Node sidecars start
    while the cluster and client are still coming up (``conn.plugin_preinstalled``); otherwise the caller registers it.
    """
    address = req.get("address")
    cluster_class = req.get("cluster_class")
    cluster_kwargs = _check_kwargs("cluster_kwargs", req.get("cluster_kwargs"))
    adapt_kwargs = req.get("adapt_kwargs")
    adapt_kwargs = None if adapt_kwargs is None else _check_kwargs("adapt_kwargs", adapt_kwargs)
    client_kwargs = _check_kwargs("client_kwargs", req.get("client_kwargs"))

    if address:
        if cluster_class or cluster_kwargs or adapt_kwargs is not None:
            raise BridgeConfigError(
                "`address` cannot be combined with cluster_class/cluster_kwargs/adapt_kwargs: "
                "an existing scheduler is used as it is"
            )
        log("info", f"Connecting to an existing Dask cluster at {address}")
        client = await Client(address, asynchronous=True, **client_kwargs)
        return Connection(client=client, cluster=None, created=False)

    cluster_class = cluster_class or DEFAULT_CLUSTER_CLASS
    cls = import_cluster_class(cluster_class)
    if _is_local_cluster(cls):
        # In-process workers (processes=False) talk over inproc://, where a host must not be given.
        if cluster_kwargs.get("processes", True) is not False:
            cluster_kwargs.setdefault("host", "127.0.0.1")
        cluster_kwargs.setdefault("dashboard_address", "127.0.0.1:0")
        if worker_plugin is not None and "plugins" not in cluster_kwargs:
            cluster_kwargs["plugins"] = [worker_plugin]
    log("info", f"Creating a new Dask cluster with `{cluster_class}`")
    cluster = cls(asynchronous=True, **cluster_kwargs)
    if inspect.isawaitable(cluster):
        cluster = await cluster
    conn = Connection(client=None, cluster=cluster, created=True)  # type: ignore[arg-type]
    conn.plugin_preinstalled = worker_plugin is not None and any(p is worker_plugin for p in cluster_kwargs.get("plugins") or [])
    try:
        if adapt_kwargs is not None:
            res = cluster.adapt(**adapt_kwargs)
            if inspect.isawaitable(res):
                await res
        conn.client = await Client(cluster, asynchronous=True, **client_kwargs)
    except BaseException:
        res = cluster.close()
        if inspect.isawaitable(res):
            await res
        raise
    return conn
