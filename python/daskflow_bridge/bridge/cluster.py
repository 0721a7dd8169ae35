"""Cluster creation / connection for the bridge's `start` request (docs/bridge-protocol.md §1)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from typing import Any, Callable

from distributed import Client

from ..session.connection import Connection
from .cluster_signature import WORKERS, accepts
from .errors import BridgeConfigError
from .security import make_security, needs_credentials

DEFAULT_CLUSTER_CLASS = "distributed.LocalCluster"

Log = Callable[[str, str], None]


class ClusterClassImportError(ImportError):
    """The cluster class path could not be imported."""


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


def _secure_cluster(cls: Any, name: str, cluster_kwargs: dict[str, Any], security: Any, log: Log) -> None:
    """Hands ``security`` to a cluster class that takes it (a LocalCluster also listens on tls:// only)."""
    if "security" in cluster_kwargs:
        raise BridgeConfigError("give TLS settings once: `security`, not also cluster_kwargs.security")
    if _is_local_cluster(cls):
        protocol = cluster_kwargs.get("protocol")
        if protocol is not None and not str(protocol).startswith("tls"):
            raise BridgeConfigError(f"`security` makes the LocalCluster TLS-only; cluster_kwargs.protocol {protocol!r} contradicts it")
        if cluster_kwargs.get("processes") is False:
            raise BridgeConfigError("`security` needs a LocalCluster of worker processes: in-process workers (processes=False) talk over inproc://, not TLS")
        cluster_kwargs["protocol"] = "tls://"
    else:
        try:
            takes = "security" in inspect.signature(cls).parameters
        except (TypeError, ValueError):
            takes = False
        if not takes:
            log("warning", f"`{name}` takes no `security` argument: only the client uses the TLS settings; "
                "configure the cluster's own TLS as its documentation says")
            return
    cluster_kwargs["security"] = security


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
    spec = req.get("security")
    if spec is not None and "security" in client_kwargs:
        raise BridgeConfigError("give TLS settings once: `security`, not also client_kwargs.security")
    if spec is not None:
        client_kwargs["security"] = make_security(spec)

    if address:
        if cluster_class or cluster_kwargs or adapt_kwargs is not None:
            raise BridgeConfigError(
                "`address` cannot be combined with cluster_class/cluster_kwargs/adapt_kwargs: "
                "an existing scheduler is used as it is"
            )
        if needs_credentials(address, client_kwargs.get("security")):
            raise BridgeConfigError(
                f"the scheduler at {address} speaks TLS and this client has no certificate: give the DaskTaskRunner "
                "a `security: { caFile, certFile, keyFile }` option (or Dask's distributed.comm.tls.* configuration)"
            )
        log("info", f"Connecting to an existing Dask cluster at {address}")
        timeout = req.get("connect_timeout")
        if timeout is not None:
            client_kwargs.setdefault("timeout", timeout)
        try:
            client = await Client(address, asynchronous=True, **client_kwargs)
        except (OSError, TimeoutError) as exc:
            waited = client_kwargs.get("timeout")
            within = f" within {waited} s" if waited is not None else ""
            raise ConnectionError(f"could not connect to the Dask scheduler at {address}{within}: {exc}") from exc
        return Connection(client=client, cluster=None, created=False)

    cluster_class = cluster_class or DEFAULT_CLUSTER_CLASS
    cls = import_cluster_class(cluster_class)
    if _is_local_cluster(cls):
        # Defaults of our own go only to constructors that take them (a subclass may narrow LocalCluster's).
        # In-process workers (processes=False) talk over inproc://, where a host must not be given.
        if cluster_kwargs.get("processes", True) is not False and accepts(cls, "host"):
            cluster_kwargs.setdefault("host", "127.0.0.1")
        if accepts(cls, "dashboard_address"):
            cluster_kwargs.setdefault("dashboard_address", "127.0.0.1:0")
        # Only when `plugins` reaches LocalCluster's workers untouched; otherwise the bridge registers the plugin
        # through the client once connected.
        if worker_plugin is not None and "plugins" not in cluster_kwargs and accepts(cls, "plugins") == WORKERS:
            cluster_kwargs["plugins"] = [worker_plugin]
    if spec is not None:
        _secure_cluster(cls, cluster_class, cluster_kwargs, make_security(spec, ("client", "scheduler", "worker")), log)
    synchronous = accepts(cls, "asynchronous") is None
    log("info", f"Creating a new Dask cluster with `{cluster_class}`")
    if synchronous:
        cluster = await asyncio.to_thread(cls, **cluster_kwargs)
    else:
        cluster = cls(asynchronous=True, **cluster_kwargs)
        if inspect.isawaitable(cluster):
            cluster = await cluster
    conn = Connection(client=None, cluster=cluster, created=True, synchronous=synchronous)  # type: ignore[arg-type]
    conn.plugin_preinstalled = worker_plugin is not None and any(p is worker_plugin for p in cluster_kwargs.get("plugins") or [])
    if _is_local_cluster(cls) and "direct_to_workers" not in client_kwargs:
        conn.gather_direct = True
    try:
        if adapt_kwargs is not None:
            await _adapt(conn, cluster_class, adapt_kwargs)
        target = cluster.scheduler_address if synchronous else cluster
        conn.client = await Client(target, asynchronous=True, **client_kwargs)
    except BaseException:
        await conn.close_cluster()
        raise
    return conn


async def _adapt(conn: Connection, cluster_class: str, adapt_kwargs: dict[str, Any]) -> None:
    """`cluster.adapt(**adapt_kwargs)`, sync or async; a cluster without `adapt` is a configuration error."""
    adapt = getattr(conn.cluster, "adapt", None)
    if not callable(adapt):
        raise BridgeConfigError(
            f"adapt_kwargs were given, but the cluster made by `{cluster_class}` has no adapt() method: "
            "remove adaptKwargs, or use a cluster class that supports adaptive scaling"
        )
    if conn.synchronous:
        await asyncio.to_thread(adapt, **adapt_kwargs)
        return
    res = adapt(**adapt_kwargs)
    if inspect.isawaitable(res):
        await res
