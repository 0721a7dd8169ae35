"""What a TypeScript `DaskClient` does on the cluster beyond daskflow tasks: Python callables by import path,
scattered data, scheduler info. The futures it makes are held here under keys the TS side chose, until the client
releases them; results come back as MessagePack data. Nothing is evaluated from text: a callable is found by
importing a module and taking an attribute."""

from __future__ import annotations

import asyncio
import importlib
import re
from typing import Any

from ..transfer.framing import Opaque

FUTURE_REF = "__daskflow_future__"  # {FUTURE_REF: key} in call arguments stands for a held future
_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")


class NotSendableError(TypeError):
    """A result that has no MessagePack form; the message says how to convert it."""


class FutureCancelled(RuntimeError):
    """A held future was cancelled: it has no value."""


class UnknownFutureError(KeyError):
    """A key this client does not hold (never made, or already released)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def import_callable(path: str):
    if not isinstance(path, str) or not _IMPORT_PATH.match(path):
        raise ValueError(f"a callable must be given by import path like 'operator.add', got {path!r}")
    module, _, name = path.rpartition(".")
    try:
        target = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"cannot import {path!r}: {exc}") from exc
    if not callable(target):
        raise TypeError(f"{path!r} is not callable")
    return target


def to_wire(value: Any) -> Any:
    """Plain data for MessagePack: numpy and pandas values become lists and dicts."""
    if value is None or isinstance(value, (bool, int, float, str, bytes, Opaque)):
        return value  # Opaque: a large daskflow value (transfer/large_value.py), written as its bytes
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (int, str)) else k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_wire(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and type(value).__name__ == "DataFrame":
        return to_wire(to_dict(orient="list"))
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return to_wire(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return to_wire(item())
    raise NotSendableError(
        f"a result of type {type(value).__module__}.{type(value).__name__} cannot be sent to TypeScript; "
        "return plain data (numbers, strings, lists, dicts) or a numpy/pandas value"
    )


class ClientFutures:
    """The futures of one TS client session, by key."""

    def __init__(self) -> None:
        self.held: dict[str, Any] = {}

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and FUTURE_REF in value:
                return self.get(value[FUTURE_REF])
            return {k: self._resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        return value

    def get(self, key: str) -> Any:
        try:
            return self.held[key]
        except KeyError:
            raise UnknownFutureError(f"this Dask client holds no future {key!r} (never made, or already released)") from None

    def call(self, client, key: str, path: str, args: list, kwargs: dict) -> None:
        fn = import_callable(path)
        self.held[key] = client.submit(fn, *self._resolve(args), key=key, pure=False, **self._resolve(kwargs))

    async def scatter(self, client, key: str, data: Any) -> None:
        [future] = await client.scatter([data], hash=False)
        self.held[key] = future

    async def gather(self, client, keys: list[str]) -> list[Any]:
        futures = [self.get(k) for k in keys]
        cancelled = [k for k, f in zip(keys, futures) if f.cancelled()]
        if cancelled:
            raise FutureCancelled(f"cancelled on the cluster, so it has no value: {', '.join(cancelled)}")
        try:
            values = await client.gather(futures)
        except asyncio.CancelledError as exc:  # a future cancelled meanwhile (not this bridge closing)
            if asyncio.current_task() is not None and asyncio.current_task().cancelling():
                raise
            raise FutureCancelled(f"cancelled on the cluster, so it has no value: {exc}") from None
        return [to_wire(v) for v in values]

    def release(self, keys: list[str]) -> None:
        for k in keys:
            future = self.held.pop(k, None)
            if future is not None:
                future.release()

    async def cancel(self, client, keys: list[str]) -> None:
        futures = [self.held[k] for k in keys if k in self.held]
        if futures:
            await client.cancel(futures)

    async def clear(self, client) -> None:
        """End of the session: cancel what still runs, drop everything."""
        pending = [f for f in self.held.values() if f.status == "pending"]
        self.held.clear()
        if pending:
            await client.cancel(pending)


async def task_states(client, keys: list[str]) -> dict[str, Any]:
    """The scheduler's state of each key (None for a key it does not have): the flow process looks for runs that no
    worker can take (``no-worker``), which Dask would otherwise keep waiting for ever. A scheduler RPC, so no code
    of ours needs to be importable on the scheduler."""
    return await client.scheduler.get_task_status(keys=list(keys))


async def scheduler_info(client) -> dict[str, Any]:
    info = await client.scheduler.identity(n_workers=-1)
    workers = info.get("workers", {})
    return {
        "address": info.get("address"),
        "id": info.get("id"),
        "type": info.get("type"),
        "workers": {
            addr: {
                "name": str(w.get("name")),
                "nthreads": w.get("nthreads"),
                "memory_limit": w.get("memory_limit"),
                "resources": w.get("resources") or {},
                "host": w.get("host"),
                # bytes of task results in the worker's memory, as of its last heartbeat
                "managed_bytes": (w.get("metrics") or {}).get("managed_bytes"),
            }
            for addr, w in workers.items()
        },
        "dashboard_link": getattr(client, "dashboard_link", None),
    }


async def wait_for_workers(client, n: int, timeout: float | None) -> int:
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"waitForWorkers(n) needs a whole number of workers, got {n!r}")
    try:
        await client.wait_for_workers(n, timeout=timeout)
    except (asyncio.TimeoutError, TimeoutError) as exc:
        raise TimeoutError(f"fewer than {n} Dask worker(s) joined within {timeout:g} s: {exc}") from None
    return len((await client.scheduler.identity(n_workers=-1)).get("workers", {}))


async def unpublish(client, names: list[str]) -> None:
    """Drops persisted collections a client published (its scope ended)."""
    for name in names:
        try:
            await client.unpublish_dataset(name)
        except KeyError:
            pass
