"""The bridge process: requests on fd 3, replies/events on fd 4, a distributed.Client in between.

See docs/bridge-protocol.md §1. Run as ``python -m daskflow_bridge``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import Any

from . import client_ops, collections
from .transfer import protocol as P
from .cluster import BridgeConfigError, Connection, connect
from .plugin import DaskflowWorkerPlugin
from .transfer.sender_files import SENDER_FILES_ENV, SenderFiles
from .shipping import DaskflowCodePlugin
from .transfer.large_value import wrap
from .worker_task import run_task

logger = logging.getLogger("daskflow_bridge")

CLIENT_OPS = frozenset({P.OP_CALL, P.OP_SCATTER, P.OP_CLIENT_GATHER, P.OP_CLIENT_RELEASE, P.OP_CLIENT_CANCEL,
                        P.OP_SCHEDULER_INFO, P.OP_WAIT_FOR_WORKERS, P.OP_UNPUBLISH})

STEP_TIMEOUT = 30.0  # seconds any single teardown step may take before we move on


class UnknownKeyError(KeyError):
    """A key the bridge does not hold (never submitted, or already released)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def _pop_run_topic(dask_scheduler=None, topic=None):
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


_pop_run_topic.__module__ = "__main__"  # nudge cloudpickle to ship it by value


class _Reader(asyncio.Protocol):
    def __init__(self, bridge: "Bridge"):
        self.bridge = bridge
        self.decoder = P.FrameDecoder()

    def data_received(self, data: bytes) -> None:
        try:
            for msg in self.decoder.feed(data):
                self.bridge.inbox.put_nowait(msg)
        except Exception as exc:
            self.bridge.log("error", f"daskflow bridge: malformed request frame: {exc}")
            self.bridge.begin_shutdown(1)

    def connection_lost(self, exc) -> None:
        self.bridge.begin_shutdown(0)


class _Writer(asyncio.Protocol):
    def __init__(self, bridge: "Bridge"):
        self.bridge = bridge

    def connection_lost(self, exc) -> None:
        self.bridge.out_closed = True
        self.bridge.begin_shutdown(0)


class Bridge:
    def __init__(self, rfd: int = 3, wfd: int = 4):
        self.rfd = rfd
        self.wfd = wfd
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.out: asyncio.WriteTransport | None = None
        self.out_closed = False
        self.conn: Connection | None = None
        self.futures: dict[Any, Any] = {}
        self.client_futures = client_ops.ClientFutures()
        self.ac = None
        self.has_futures = asyncio.Event()
        self.topic: str | None = None
        self.plugin_name: str | None = None
        self.plugin_registered = False
        self.code_plugins: list[str] = []  # shipped packs registered after the start
        self.perf_report = None
        self.exit_code: int | None = None
        self.stop = asyncio.Event()
        self.tasks: set[asyncio.Task] = set()
        self.pump_task: asyncio.Task | None = None
        self.closed = False
        self.collections: dict[Any, asyncio.Task] = {}  # collection requests by key, while they run
        self.cancelled: set[Any] = set()
        self.files: SenderFiles | None = None
        self.files_on = False

    # ------------------------------------------------------------------ output
    def send(self, msg: dict[str, Any]) -> None:
        if self.out is None or self.out_closed or self.out.is_closing():
            return
        # Gathered results by reference, not copied into the frame first; in files of their own when the flow
        # process reads those (sender_files.py).
        for part in P.encode_parts(msg, self.files if self.files_on else None):
            self.out.write(part)

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

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        rpipe = os.fdopen(self.rfd, "rb", buffering=0)
        P.widen_pipe(self.wfd)  # gathered results: fewer turns between this process and the flow process
        wpipe = os.fdopen(self.wfd, "wb", buffering=0)
        self.out, _ = await loop.connect_write_pipe(lambda: _Writer(self), wpipe)
        rtransport, _ = await loop.connect_read_pipe(lambda: _Reader(self), rpipe)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.begin_shutdown, 128 + sig)
        if os.environ.get(SENDER_FILES_ENV) == "1" and SenderFiles.available():
            self.files = SenderFiles()
            self.send({"op": P.OP_SIDE_PROBE, "fd": self.files.probe(), "memory": self.files.token.value})
        consumer = asyncio.ensure_future(self._consume())
        stopper = asyncio.ensure_future(self.stop.wait())
        await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
        consumer.cancel()
        stopper.cancel()
        await self.teardown()
        rtransport.close()
        await self._flush()
        if self.files is not None:
            self.files.close()
        return self.exit_code or 0

    async def _flush(self) -> None:
        if self.out is None:
            return
        for _ in range(500):
            if self.out_closed or self.out.get_write_buffer_size() == 0:
                break
            await asyncio.sleep(0.01)
        self.out.close()

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
                elif op == P.OP_RELEASE_FILES:
                    if self.files is not None:
                        self.files.release(msg.get("fds") or [])
                elif op == P.OP_SIDE_FILES:
                    if self.files is not None:
                        self.files_on = msg.get("ok") is True
                        self.files.in_memory = self.files_on and msg.get("memory") is True
                        self.files.release([msg.get("fd")])
                elif op == P.OP_RESTORE:
                    self._spawn(self._request(rid, self._restore(msg.get("key"), msg.get("data"))))
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
        if self.conn is not None:
            self.reply(rid, error=RuntimeError("`start` was already called on this bridge"))
            return
        try:
            topic = req.get("topic")
            plugin_name = req.get("plugin_name")
            sidecar = req.get("sidecar")
            if not isinstance(topic, str) or not topic:
                raise BridgeConfigError("`start` needs a non-empty `topic` string")
            if not isinstance(plugin_name, str) or not plugin_name:
                raise BridgeConfigError("`start` needs a non-empty `plugin_name` string")
            if not isinstance(sidecar, dict) or not sidecar.get("node"):
                raise BridgeConfigError("`start` needs `sidecar: {node, argv, cwd, env}`")
            plugin = DaskflowWorkerPlugin(plugin_name, sidecar)
            self.conn = await connect(req, self.log, worker_plugin=plugin)
            client = self.conn.client
            self.topic = topic
            self.plugin_name = plugin_name
            client.subscribe_topic(topic, self._on_event)
            if not self.conn.plugin_preinstalled:  # a LocalCluster's workers got it at construction
                await client.register_plugin(plugin, name=plugin_name)
                self.plugin_registered = True
            if req.get("performance_report_path"):
                from distributed import performance_report

                pr = performance_report(filename=req["performance_report_path"])
                await pr.__aenter__()
                self.perf_report = pr
            from distributed import as_completed

            self.ac = as_completed(loop=client.loop)
            self.pump_task = asyncio.ensure_future(self._pump())
            link = client.dashboard_link
            if link:
                self.log("info", f"The Dask dashboard is available at {link}")
            ident = await client.scheduler.identity(n_workers=-1)
            value = {
                "scheduler_address": client.scheduler.address,
                "dashboard_link": link,
                "created": self.conn.created,
                "cluster_repr": repr(self.conn.cluster) if self.conn.cluster is not None else repr(client),
                "n_workers": len(ident.get("workers", {})),
            }
        except Exception as exc:
            await self.teardown(final=False)
            self.reply(rid, error=exc)
            return
        self.reply(rid, value)

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

    def _submit(self, tasks: list[dict[str, Any]]) -> None:
        client = self._client()
        held = self.futures
        frame_keys = {t.get("key") for t in tasks}
        pending = []
        for t in tasks:
            key = t.get("key")
            if key in held:
                self.done_error(key, ValueError(f"duplicate task key {key!r}: a task with this key is still held"))
            else:
                pending.append(t)
        while pending:
            wave, rest, failed = [], [], []
            for t in pending:
                deps = t.get("deps") or []
                if all(d in held for d in deps):
                    wave.append(t)
                elif all(d in held or d in frame_keys for d in deps):
                    rest.append(t)
                else:
                    failed.append(t)
            if not wave:  # dependency cycle inside the frame
                failed.extend(rest)
                rest = []
            for t in failed:
                missing = [d for d in (t.get("deps") or []) if d not in held]
                frame_keys.discard(t.get("key"))
                self.done_error(t.get("key"), UnknownKeyError(
                    f"task {t.get('key')!r} depends on {missing!r}, which the bridge does not hold "
                    "(never submitted, failed to submit, or already released)"))
            groups: dict[Any, list[dict[str, Any]]] = {}
            for t in wave:
                gk = (_freeze(t.get("annotations") or {}), len(t.get("deps") or []))
                groups.setdefault(gk, []).append(t)
            for (_, ndeps), group in groups.items():
                try:
                    futs = self._map_group(client, group, ndeps)
                except Exception as exc:
                    for t in group:
                        frame_keys.discard(t.get("key"))
                        self.done_error(t.get("key"), exc)
                    continue
                for t, f in zip(group, futs):
                    held[t["key"]] = f
                self.ac.update(futs)
                self.has_futures.set()
            pending = rest

    def _map_group(self, client, group: list[dict[str, Any]], ndeps: int) -> list:
        ann = group[0].get("annotations") or {}
        kw: dict[str, Any] = {}
        if ann.get("resources"):
            kw["resources"] = ann["resources"]
        if ann.get("priority") is not None:
            kw["priority"] = ann["priority"]
        if ann.get("retries") is not None:
            kw["retries"] = ann["retries"]
        if ann.get("workers"):
            kw["workers"] = [ann["workers"]] if isinstance(ann["workers"], str) else list(ann["workers"])
            if ann.get("allow_other_workers"):
                kw["allow_other_workers"] = True
        n = len(group)
        iterables = [
            [t["spec"] for t in group],
            [t["args"] for t in group],
            [t.get("meta") or {} for t in group],
            [self.topic] * n,
            [self.plugin_name] * n,
        ]
        held = self.futures
        for i in range(ndeps):
            iterables.append([held[t["deps"][i]] for t in group])
        return client.map(run_task, *iterables, key=[t["key"] for t in group], pure=False, **kw)

    async def _pump(self) -> None:
        """Emit `done` for every held future as it completes (results stay on the cluster)."""
        ac = self.ac
        while True:
            await self.has_futures.wait()
            async for fut in ac:
                await self._emit_done(fut)
                while ac.has_ready():
                    for f in ac.next_batch(block=False):
                        await self._emit_done(f)
            if ac.is_empty():
                self.has_futures.clear()

    async def _emit_done(self, fut) -> None:
        status = fut.status
        if status == "finished":
            self.send({"op": P.OP_DONE, "key": fut.key, "status": P.STATUS_FINISHED})
        elif status == "cancelled":
            self.send({"op": P.OP_DONE, "key": fut.key, "status": P.STATUS_CANCELLED})
        else:
            try:
                exc = await fut.exception()
                tb = await fut.traceback()
            except Exception as e:  # e.g. the future was cancelled meanwhile
                exc, tb = e, None
            if tb is not None and exc is not None and exc.__traceback__ is None:
                try:
                    exc = exc.with_traceback(tb)
                except Exception:
                    pass
            self.done_error(fut.key, exc if exc is not None else RuntimeError(f"task ended with status {status}"))

    async def _restore(self, key: Any, data: Any) -> None:
        """Holds ``data`` (a released task's envelope, sent back by the flow process) under ``key`` for new dependents."""
        if not isinstance(data, (bytes, bytearray)):
            raise P.ProtocolError(f"restore of {key!r} without binary data")
        [future] = await self._client().scatter([wrap(data)], hash=False)
        self.futures[key] = future

    def _release(self, keys: list[Any]) -> None:
        for k in keys:
            f = self.futures.pop(k, None)
            if f is not None:
                f.release()  # now, not when the last reference (e.g. in the as_completed loop) goes away

    async def _cancel(self, keys: list[Any]) -> None:
        futs = [self.futures[k] for k in keys if k in self.futures]
        if futs:
            await self._client().cancel(futs)

    async def _gather(self, keys: list[Any]) -> list[bytes]:
        missing = [k for k in keys if k not in self.futures]
        if missing:
            raise UnknownKeyError(f"cannot gather {missing!r}: the bridge does not hold these keys "
                                  "(never submitted, or already released)")
        return list(await self._client().gather([self.futures[k] for k in keys], direct=self.conn.gather_direct))

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
        """Release everything of this run; close what the bridge created. Safe to call more than once."""
        taken = self._let_go(final)
        if taken is None:
            return
        conn, pending = taken
        client = conn.client
        if self.perf_report is not None:
            pr, self.perf_report = self.perf_report, None
            await self._step("performance report", pr.__aexit__(None, None, None))
        if client is not None and client.status == "running":
            await self._step("cancel client futures", self.client_futures.clear(client))
            if pending:
                await self._step("cancel pending tasks", client.cancel(pending))
            del pending
            if self.plugin_registered:
                self.plugin_registered = False
                await self._step("unregister worker plugin", client.unregister_worker_plugin(self.plugin_name))
            for name in self.code_plugins:
                await self._step("unregister shipped code", client.unregister_worker_plugin(name))
            self.code_plugins = []
            if self.topic:
                await self._step("remove event topic", client.run_on_scheduler(_pop_run_topic, topic=self.topic))
        await self._step("close client/cluster", conn.close(), timeout=60.0)

    def _let_go(self, final: bool):
        """Stop the work in flight and take the connection: ``(conn, still-pending futures)``, or None."""
        if self.closed:
            return None
        if final:
            self.closed = True
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


def _freeze(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(x) for x in v)
    return v


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for fd in (3, 4):
        try:
            os.fstat(fd)
        except OSError:
            sys.stderr.write(
                "daskflow_bridge: fd 3 (requests) and fd 4 (replies) must be open; "
                "this process is started by the daskflow DaskTaskRunner\n"
            )
            sys.exit(2)
    code = asyncio.run(Bridge().run())
    sys.exit(code)
