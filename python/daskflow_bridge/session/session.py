"""A bridge session: the requests of docs/bridge-protocol.md §1 served on an asynchronous Dask Client, one at a time
from ``inbox``, replies and events through ``send``.

Served in two places, which subclass Session: the bridge process the flow starts (bridge/process.py: its channel
is fds 3/4, and it creates or connects to the cluster on `start`), and a Dask worker for a task's own client
(worker/client_service.py: its channel is the task's sidecar, its client the run's on that worker). So this package
imports neither: what Dask runs for a task on a worker (``task_function``, worker/task.py's run_task) is handed in.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from .. import collections
from ..limits import Slots
from ..results import store as results_store
from ..shipping import DaskflowCodePlugin
from ..transfer import protocol as P
from . import client_ops
from .connection import Connection
from .tasks import TaskOps

CLIENT_OPS = frozenset({P.OP_CALL, P.OP_SCATTER, P.OP_CLIENT_GATHER, P.OP_CLIENT_RELEASE, P.OP_CLIENT_CANCEL,
                        P.OP_SCHEDULER_INFO, P.OP_WAIT_FOR_WORKERS, P.OP_UNPUBLISH})

STEP_TIMEOUT = 30.0  # seconds any single teardown step may take before we move on


def pop_run_topic(dask_scheduler=None, topic=None):
    """Runs on the scheduler (pickled by value, so the scheduler does not need daskflow_bridge installed)."""
    removed = False
    broker = getattr(dask_scheduler, "_broker", None)
    if broker is not None and topic in getattr(broker, "_topics", {}):
        del broker._topics[topic]  # events and the subscription of this run
        removed = True
    for attr in ("events", "event_counts", "event_subscriber"):  # older distributed
        d = getattr(dask_scheduler, attr, None)
        if isinstance(d, dict) and topic in d:
            del d[topic]
            removed = True
    return removed


pop_run_topic.__module__ = "__main__"  # nudge cloudpickle to ship it by value


class Session(TaskOps):
    """The ops both places serve; ``send``, ``_start`` and ``teardown`` are theirs."""

    def __init__(self, task_function: Callable[..., Any]):
        self.task_function = task_function
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.conn: Connection | None = None
        self.futures: dict[Any, Any] = {}
        self.client_futures = client_ops.ClientFutures()
        self.ac = None
        self.has_futures = asyncio.Event()
        self.topic: str | None = None
        self.plugin_name: str | None = None
        self.code_plugins: list[str] = []  # shipped packs registered after the start
        self.exit_code: int | None = None
        self.stop = asyncio.Event()
        self.tasks: set[asyncio.Task] = set()
        self.pump_task: asyncio.Task | None = None
        self.closed = False
        self.collections: dict[Any, asyncio.Task] = {}  # collection requests by key, while they run
        self.cancelled: set[Any] = set()
        self.slots = Slots(self)  # concurrency limits: tasks waiting for slots, concurrency() leases

    # ------------------------------------------------------------------ output
    def send(self, msg: dict[str, Any]) -> None:
        raise NotImplementedError

    def log(self, level: str, message: str) -> None:
        self.send({"op": P.OP_LOG, "level": level, "message": message})

    def reply(self, rid: Any, value: Any = None, error: BaseException | None = None) -> None:
        if error is None:
            self.send({"op": P.OP_REPLY, "id": rid, "ok": True, "value": value})
        else:
            self.send({"op": P.OP_REPLY, "id": rid, "ok": False, "error": P.error_info(error)})

    def done_error(self, key: Any, exc: BaseException) -> None:
        self.send({"op": P.OP_DONE, "key": key, "status": P.STATUS_ERROR, "error": P.error_info(exc)})

    # ------------------------------------------------------------------ lifecycle
    def begin_shutdown(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
        self.stop.set()

    async def _consume(self) -> None:
        while True:
            msg = await self.inbox.get()
            op = msg.get("op")
            rid = msg.get("id")
            try:
                if op == P.OP_START:
                    await self._start(rid, msg)
                elif op == P.OP_SUBMIT:
                    self._submit(msg.get("tasks") or [])
                elif op == P.OP_RELEASE:
                    self._release(msg.get("keys") or [])
                elif op == P.OP_CANCEL:
                    self._spawn(self._cancel(msg.get("keys") or []))
                elif op == P.OP_GATHER:
                    self._spawn(self._request(rid, self._gather(msg.get("keys") or [])))
                elif op == P.OP_WORKERS:
                    self._spawn(self._request(rid, self._workers()))
                elif op == P.OP_TASK_STATES:
                    self._spawn(self._request(rid, client_ops.task_states(self._client(), msg.get("keys") or [])))
                elif op == P.OP_RESULTS:
                    self._spawn(self._request(rid, results_store.handle(self._client(), msg)))
                elif op in CLIENT_OPS:
                    self._client_op(op, rid, msg)
                elif op == P.OP_COLLECTION:
                    # Bag partitions run in this run's sidecars: the builder needs the plugin that holds them.
                    args = {"plugin_name": self.plugin_name, **(msg.get("args") or {})}
                    self._spawn(self._request(rid, self._collection(msg.get("key"), collections.run(
                        msg.get("kind"), msg.get("action"), msg.get("plan"), args, self._client()))))
                elif op == P.OP_COLLECTION_CANCEL:
                    for key in msg.get("keys") or []:
                        task = self.collections.get(key)
                        if task is not None:
                            self.cancelled.add(key)
                            task.cancel()
                    self.reply(rid, None)
                elif op in (P.OP_RELEASE_FILES, P.OP_SIDE_FILES):
                    self._on_files(op, msg)
                elif op == P.OP_RESTORE:
                    self._spawn(self._request(rid, self._restore(msg.get("key"), msg.get("data"))))
                elif op in (P.OP_LIMIT_ACQUIRE, P.OP_LIMIT_RELEASE):
                    self._spawn(self._request(rid, self.slots.request(op, msg)))
                elif op == P.OP_SHIP:
                    self._spawn(self._request(rid, self._ship(msg.get("run"), msg.get("pack") or {})))
                elif op == P.OP_CLOSE:
                    await self.teardown()
                    self.reply(rid, None)
                    self.begin_shutdown(0)
                    return
                else:
                    raise P.ProtocolError(f"unknown op {op!r}")
            except Exception as exc:
                if rid is not None:
                    self.reply(rid, error=exc)
                else:
                    self.log("error", f"daskflow bridge: {op!r} failed: {type(exc).__name__}: {exc}")

    async def _collection(self, key: Any, coro) -> Any:
        """A collection request, cancellable by ``key`` (collection-cancel): cancelling it releases the Dask futures
        the builder holds (their ``finally``), which stops the work; the request then fails with FutureCancelled."""
        if key is None:
            return await coro
        self.collections[key] = asyncio.current_task()
        try:
            return await coro
        except asyncio.CancelledError:
            if key not in self.cancelled:
                raise  # the bridge is closing
            raise client_ops.FutureCancelled(f"cancelled on the cluster, so it has no value: {key}") from None
        finally:
            self.collections.pop(key, None)
            self.cancelled.discard(key)

    def _spawn(self, coro) -> None:
        t = asyncio.ensure_future(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    async def _request(self, rid: Any, coro) -> None:
        try:
            value = await coro
        except asyncio.CancelledError:
            self.reply(rid, error=RuntimeError("the daskflow bridge is closing"))
            raise
        except Exception as exc:
            self.reply(rid, error=exc)
        else:
            self.reply(rid, value)

    def _client_op(self, op: str, rid: Any, msg: dict[str, Any]) -> None:
        """A DaskClient request (client_ops.py); replies carry MessagePack data."""
        client, held = self._client(), self.client_futures
        if op == P.OP_CALL:
            held.call(client, msg.get("key"), msg.get("callable"), msg.get("args") or [], msg.get("kwargs") or {})
            self.reply(rid, None)
        elif op == P.OP_CLIENT_RELEASE:
            held.release(msg.get("keys") or [])
        elif op == P.OP_SCATTER:
            self._spawn(self._request(rid, held.scatter(client, msg.get("key"), msg.get("data"))))
        elif op == P.OP_CLIENT_GATHER:
            self._spawn(self._request(rid, held.gather(client, msg.get("keys") or [])))
        elif op == P.OP_CLIENT_CANCEL:
            self._spawn(self._request(rid, held.cancel(client, msg.get("keys") or [])))
        elif op == P.OP_SCHEDULER_INFO:
            self._spawn(self._request(rid, client_ops.scheduler_info(client)))
        elif op == P.OP_WAIT_FOR_WORKERS:
            self._spawn(self._request(rid, client_ops.wait_for_workers(client, msg.get("n"), msg.get("timeout_seconds"))))
        elif op == P.OP_UNPUBLISH:
            self._spawn(client_ops.unpublish(client, msg.get("names") or []))

    def _client(self):
        if self.conn is None:
            raise RuntimeError("the bridge has no cluster yet: send `start` first")
        return self.conn.client

    # ------------------------------------------------------------------ ops
    async def _start(self, rid: Any, req: dict[str, Any]) -> None:
        raise NotImplementedError

    def _on_files(self, op: str, msg: dict[str, Any]) -> None:
        """`side-files` and `release-files`: only the bridge process has value files (transfer/sender_files.py)."""

    def _on_event(self, event) -> None:
        _ts, data = event
        if isinstance(data, dict) and data.get("kind") == "batch" and isinstance(data.get("events"), (list, tuple)):
            worker = data.get("worker")
            for item in data["events"]:
                if isinstance(item, dict) and worker is not None:
                    item.setdefault("worker", worker)
                self.send({"op": P.OP_EVENT, "data": item})
        else:
            self.send({"op": P.OP_EVENT, "data": data})

    async def _ship(self, run: str, pack: dict[str, Any]) -> None:
        """Every worker, and every worker that joins later, lays this pack into the run's code folder."""
        name = f"{self.plugin_name}-code-{pack.get('hash')}"
        await self._client().register_plugin(DaskflowCodePlugin(run, pack), name=name)
        self.code_plugins.append(name)

    async def _workers(self) -> list[dict[str, Any]]:
        ident = await self._client().scheduler.identity(n_workers=-1)
        return [
            {"address": addr, "nthreads": w.get("nthreads"), "resources": w.get("resources") or {}}
            for addr, w in ident.get("workers", {}).items()
        ]

    # ------------------------------------------------------------------ teardown
    async def teardown(self, final: bool = True) -> None:
        raise NotImplementedError

    def _let_go(self, final: bool):
        """Stop the work in flight and take the connection: ``(conn, still-pending futures)``, or None."""
        if self.closed:
            return None
        if final:
            self.closed = True
        self.slots.stop()
        for t in list(self.tasks):
            t.cancel()
        if self.pump_task is not None:
            self.pump_task.cancel()
            self.pump_task = None
        conn, self.conn = self.conn, None
        if conn is None:
            return None
        pending = [f for f in self.futures.values() if f.status == "pending"]
        self.futures.clear()
        self.ac = None
        return conn, pending

    async def _step(self, what: str, aw, timeout: float = STEP_TIMEOUT) -> None:
        try:
            await asyncio.wait_for(aw, timeout)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.log("warning", f"daskflow bridge: while closing, {what} failed: {type(exc).__name__}: {exc}")
