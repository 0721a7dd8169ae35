"""A task's client session, served by the worker it runs on (docs/bridge-protocol.md §3, op ``bridge``).

A daskflow task that submits tasks or uses ``getDaskClient()`` talks to its sidecar's worker instead of a bridge
process of its own: the sidecar sends bridge requests over its channel, and this session answers them with the
same code as the bridge process (Session's ops: submit, gather, call, scatter, collections, ...) on an asynchronous
Client the worker keeps for the run, on the worker's event loop. That works for every scheduler address (``inproc://``
of a threads-only cluster included: the client lives in the worker's process) and costs no process per task.
As with Dask's ``worker_client()``, the task's thread leaves the worker's pool on the first request, so a one-thread
cluster can run the work the task waits for.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any, Callable

from ..session.connection import Connection
from ..session.session import Session, pop_run_topic
from ..transfer import protocol as P
from .run_clients import client_for

FINISH_TIMEOUT = 30.0  # seconds the end of a task waits for its session to let go of what it holds


class _Writer:
    """Frames to the sidecar from any thread, written by one thread: the worker's loop never blocks on a pipe."""

    def __init__(self, write: Callable[[dict[str, Any]], None]):
        self._write = write
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="daskflow-session-writer", daemon=True)
        self._thread.start()

    def put(self, msg: dict[str, Any]) -> None:
        self._queue.put(msg)

    def _run(self) -> None:
        while True:
            msg = self._queue.get()
            if msg is None:
                return
            try:
                self._write(msg)
            except OSError:
                return  # the sidecar is gone; its task ends CRASHED through the reader

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(5)


class WorkerSession(Session):
    """The bridge's ops, for one task run, on the worker's loop and its run client."""

    def __init__(self, worker, plugin_name: str, writer: _Writer, task_function: Callable[..., Any]):
        super().__init__(task_function)
        self.worker = worker
        self.plugin_name = plugin_name
        self.writer = writer
        self.loop = worker.loop.asyncio_loop
        self.served: Any = None

    # -- called from the task thread
    def serve(self) -> None:
        self.served = asyncio.run_coroutine_threadsafe(self._serve(), self.loop)

    def deliver(self, msg: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self.inbox.put_nowait, msg)

    def finish(self) -> None:
        """End of the task: let go of what the session holds (a task that closed its runner did so already)."""
        if self.served is None:
            return
        if not self.served.done():
            self.loop.call_soon_threadsafe(self.stop.set)
        try:
            self.served.result(FINISH_TIMEOUT)
        except Exception:
            pass

    # -- on the worker's loop
    def send(self, msg: dict[str, Any]) -> None:
        self.writer.put({"op": P.OP_BRIDGE, "message": msg})

    async def _serve(self) -> None:
        consumer = asyncio.ensure_future(self._consume())
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            consumer.cancel()
            stopper.cancel()
            await self.teardown()

    async def _start(self, rid: Any, req: dict[str, Any]) -> None:
        if self.conn is not None:
            self.reply(rid, error=RuntimeError("`start` was already called in this task's session"))
            return
        try:
            from distributed import as_completed

            client = await client_for(self.worker, self.plugin_name)
            self.conn = Connection(client=client, created=False)
            self.topic = req.get("topic") or None
            if self.topic:
                client.subscribe_topic(self.topic, self._on_event)
            self.ac = as_completed(loop=client.loop)
            self.pump_task = asyncio.ensure_future(self._pump())
            ident = await client.scheduler.identity(n_workers=-1)
            value = {
                "scheduler_address": client.scheduler.address,
                "dashboard_link": client.dashboard_link,
                "created": False,
                "cluster_repr": repr(client),
                "n_workers": len(ident.get("workers", {})),
            }
        except Exception as exc:
            self.reply(rid, error=exc)
            return
        self.reply(rid, value)

    async def teardown(self, final: bool = True) -> None:
        """Release this task's futures and event topic; the run's client stays for the next task."""
        taken = self._let_go(final=True)
        if taken is None:
            return
        conn, pending = taken
        client = conn.client
        await self._step("cancel client futures", self.client_futures.clear(client))
        if pending:
            await self._step("cancel pending tasks", client.cancel(pending))
        if self.topic:
            getattr(client, "_event_handlers", {}).pop(self.topic, None)
            await self._step("remove event topic", client.run_on_scheduler(pop_run_topic, topic=self.topic))


class TaskSessions:
    """The sessions of one run_task call: at most one open at a time (a batch's items each may open one)."""

    def __init__(self, worker, plugin_name: str, secede: Callable[[], None], task_function: Callable[..., Any]):
        self.worker = worker
        self.plugin_name = plugin_name
        self.secede = secede
        self.task_function = task_function  # run_task, handed in: the tasks a task submits run as it does
        self.session: WorkerSession | None = None
        self.writer: _Writer | None = None

    def deliver(self, sc, msg: Any) -> None:
        if not isinstance(msg, dict):
            raise P.ProtocolError("sidecar 'bridge' message without a request map")
        # Like worker_client(): a task about to wait on work of its own gives its thread slot back.
        self.secede()
        if self.writer is None:
            self.writer = _Writer(sc.send)
        if self.session is None or self.session.closed or (self.session.served is not None and self.session.served.done()):
            if msg.get("op") != P.OP_START:
                # A late one-way message (release, cancel) after the session closed: nothing left to act on.
                if msg.get("id") is None:
                    return
            self.session = WorkerSession(self.worker, self.plugin_name, self.writer, self.task_function)
            self.session.serve()
        self.session.deliver(msg)

    def finish(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.finish()
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.close()
