"""The bridge process: requests on fd 3, replies/events on fd 4, a distributed.Client in between.

See docs/bridge-protocol.md §1. Run as ``python -m daskflow_bridge``. The requests are served by Session
(session/session.py); this process adds its channel, the cluster it creates or connects to on `start`, and value
files for large replies (transfer/sender_files.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import Any

from ..session.session import Session, pop_run_topic
from ..transfer import protocol as P
from ..transfer.sender_files import SENDER_FILES_ENV, SenderFiles
from ..worker.plugin import DaskflowWorkerPlugin
from ..worker.task import run_task
from .cluster import connect
from .errors import BridgeConfigError

logger = logging.getLogger("daskflow_bridge")


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


class Bridge(Session):
    def __init__(self, rfd: int = 3, wfd: int = 4):
        super().__init__(run_task)  # what Dask runs for each daskflow task, on a worker
        self.rfd = rfd
        self.wfd = wfd
        self.out: asyncio.WriteTransport | None = None
        self.out_closed = False
        self.plugin_registered = False
        self.perf_report = None
        self.files: SenderFiles | None = None
        self.files_on = False

    # ------------------------------------------------------------------ output
    def send(self, msg: dict[str, Any]) -> None:
        if self.out is None or self.out_closed or self.out.is_closing():
            return
        # Gathered results by reference, not copied into the frame first; in files of their own when the flow
        # process reads those (transfer/sender_files.py).
        for part in P.encode_parts(msg, self.files if self.files_on else None):
            self.out.write(part)

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

    def _on_files(self, op: str, msg: dict[str, Any]) -> None:
        if self.files is None:
            return
        if op == P.OP_RELEASE_FILES:
            self.files.release(msg.get("fds") or [])
        else:  # OP_SIDE_FILES
            self.files_on = msg.get("ok") is True
            self.files.in_memory = self.files_on and msg.get("memory") is True
            self.files.release([msg.get("fd")])

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
                await self._step("remove event topic", client.run_on_scheduler(pop_run_topic, topic=self.topic))
            await self._step("close run-scope limits", self.slots.close_run_scope(client))
        await self._step("close client/cluster", conn.close(), timeout=60.0)


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
