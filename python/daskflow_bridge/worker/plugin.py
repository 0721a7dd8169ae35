"""The daskflow WorkerPlugin: a pool of warm Node sidecars on each Dask worker (docs/bridge-protocol.md §3)."""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import signal
import sys
import threading
import time
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from .. import shipping
from ..sidecar import node as node_choice
from ..sidecar.process import Lifeline, Sidecar, SidecarError
from ..transfer.protocol import ChannelClosed, ProtocolError

logger = logging.getLogger("daskflow_bridge.plugin")

TERM_GRACE = 3.0  # seconds between SIGTERM and SIGKILL on teardown
EOF_GRACE = 0.5  # seconds a sidecar gets to exit by itself after its fd 3 is closed


class SidecarPool:
    """``size`` warm sidecars; borrow one per task call, give it back, replace the dead."""

    def __init__(self, spec: dict[str, Any], size: int):
        self.spec = spec
        self.size = max(1, int(size))
        self._idle: queue.LifoQueue[Sidecar] = queue.LifoQueue()
        self._all: set[Sidecar] = set()
        self._lock = threading.Lock()
        self.closed = False
        self.replaced = 0  # sidecars started to replace dead/killed ones (observable in tests)
        self.lifeline: Lifeline | None = None
        self.on_first_ready = None  # called with the first sidecar that said `ready` (its Node version)

    def start(self) -> None:
        self.lifeline = Lifeline()
        for _ in range(self.size):
            self._idle.put(self._spawn())

    def _spawn(self) -> Sidecar:
        if self.closed:
            raise SidecarError("the daskflow sidecar pool is closed (plugin torn down)")
        sc = Sidecar(self.spec, None if self.lifeline is None else self.lifeline.pid)
        with self._lock:
            self._all.add(sc)
        return sc

    def borrow(self) -> Sidecar:
        """An idle, ready sidecar; starts an extra one when all are busy (e.g. seceded tasks)."""
        while True:
            try:
                sc = self._idle.get_nowait()
            except queue.Empty:
                sc = self._spawn()
            if sc.poll() is not None:  # died while idle
                self._discard(sc)
                continue
            try:
                sc.wait_ready()
            except (SidecarError, ProtocolError, ChannelClosed, OSError) as exc:
                reason = sc.exit_reason() if sc.poll() is not None else str(exc)
                self._discard(sc, kill=True)
                raise SidecarError(f"Node sidecar failed to start: {reason}") from exc
            if self.on_first_ready is not None:
                notify, self.on_first_ready = self.on_first_ready, None
                notify(sc)
            return sc

    def give_back(self, sc: Sidecar) -> None:
        if self.closed or sc.poll() is not None:
            self._discard(sc, kill=True)
            return
        with self._lock:
            extra = self._idle.qsize() >= self.size
        if extra:
            self._discard(sc, kill=False)
            sc.close_input()
            if sc.wait(EOF_GRACE) is None:
                sc.kill()
            sc.close_fds()
        else:
            self._idle.put(sc)

    def replace(self, sc: Sidecar) -> Sidecar:
        """Kill ``sc`` (if still alive) and return a fresh ready sidecar in its place (borrowed)."""
        self._discard(sc, kill=True)
        self.replaced += 1
        new = self._spawn()
        try:
            new.wait_ready()
        except Exception as exc:
            reason = new.exit_reason() if new.poll() is not None else str(exc)
            self._discard(new, kill=True)
            raise SidecarError(f"replacement Node sidecar failed to start: {reason}") from exc
        return new

    def _discard(self, sc: Sidecar, kill: bool = False) -> None:
        with self._lock:
            self._all.discard(sc)
        if kill:
            sc.kill()

    def pids(self) -> list[int]:
        with self._lock:
            return [sc.pid for sc in self._all]

    async def close(self) -> None:
        """Close every sidecar's fd 3, then SIGTERM, then SIGKILL after TERM_GRACE seconds."""
        sidecars = self._close_all()
        for sc in sidecars:
            sc.close_input()
        await _wait_all(sidecars, EOF_GRACE)
        alive = [sc for sc in sidecars if sc.poll() is None]
        for sc in alive:
            try:
                os.kill(sc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        await _wait_all(alive, TERM_GRACE)
        for sc in alive:
            if sc.poll() is None:
                sc.kill()
        for sc in sidecars:
            sc.close_fds()
        self._cut_lifeline()

    def close_now(self) -> None:
        """Synchronous last resort (process exit): SIGKILL everything."""
        for sc in self._close_all():
            sc.kill()
        self._cut_lifeline()

    def _close_all(self) -> list[Sidecar]:
        """Mark the pool closed (no new sidecars) and hand over all it holds."""
        self.closed = True
        with self._lock:
            sidecars = list(self._all)
            self._all.clear()
        return sidecars

    def _cut_lifeline(self) -> None:
        lifeline, self.lifeline = self.lifeline, None
        if lifeline is not None:
            lifeline.close()


async def _wait_all(sidecars: list[Sidecar], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(sc.poll() is None for sc in sidecars) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


class DaskflowWorkerPlugin(WorkerPlugin):
    """Starts ``worker.state.nthreads`` Node sidecars on every worker (including ones added later)."""

    idempotent = False

    def __init__(self, name: str, sidecar: dict[str, Any]):
        self.name = name
        self.sidecar = dict(sidecar)
        self.pool: SidecarPool | None = None
        self.view: str | None = None
        self.setup_error: str | None = None

    def __getstate__(self):  # never ship a live pool
        return {"name": self.name, "sidecar": self.sidecar}

    def __setstate__(self, state):
        self.name = state["name"]
        self.sidecar = state["sidecar"]
        self.pool = None
        self.view = None
        self.setup_error = None

    def _tell_flow(self, worker, level: str, message: str) -> None:
        """A line in the flow's terminal (through the run's event topic)."""
        topic = self.sidecar.get("topic")
        if topic:
            try:
                worker.log_event(topic, {"kind": "worker-log", "level": level, "message": message})
            except Exception:  # the message is also raised or logged here
                logger.warning("daskflow: could not send to the flow: %s", message)

    def _resolve(self, worker) -> dict[str, Any]:
        """The sidecar command on this worker: its Node, and with shipped code the run's folder laid out."""
        spec = dict(self.sidecar)
        spec["env"] = dict(spec.get("env") or {})
        spec["node"] = node_choice.choose_node(spec.get("node"), worker.address)
        code = spec.pop("code", None)
        cwd = spec.get("cwd")
        if code is None:
            if cwd and not os.path.isdir(cwd):
                raise SidecarError(f"sidecar cwd {cwd!r} does not exist on worker {worker.address}")
            return spec
        view = shipping.view_dir(shipping.cache_dir(), code["run"])
        if code.get("packs"):
            shipping.lay_out(code["run"], code["packs"])
        elif not os.path.isdir(view):
            raise SidecarError(f"the run's shipped code folder {view} is missing on worker {worker.address}")
        shipping.enter_view(view, self.name)
        self.view = view
        spec["argv"] = [*(spec.get("argv") or []), os.path.join(view, code["entry"])]
        spec["env"][shipping.CODE_ROOT_ENV] = view
        # A task that submits tasks starts a bridge from the shipped daskflow, which has no environment of its own
        # next to it: this worker's Python (it has daskflow_bridge) is the one to use.
        if "DASKFLOW_PYTHON" not in os.environ:
            spec["env"].setdefault("DASKFLOW_PYTHON", sys.executable)
        if cwd and not os.path.isdir(cwd):
            spec["cwd"] = None  # the flow's folder is not on this host: the worker's own
        return spec

    def setup(self, worker) -> None:
        try:
            spec = self._resolve(worker)
            from ..security import sidecar_env

            # A task's own clients (nested submits, getDaskClient) reach a TLS scheduler with this worker's credentials.
            spec["env"] = {**sidecar_env(getattr(worker, "security", None)), **spec["env"]}
        except Exception as exc:
            self.setup_error = f"{type(exc).__name__}: {exc}"
            self._tell_flow(worker, "error", f"daskflow's worker plugin failed: {exc}")
            raise
        pool = SidecarPool(spec, worker.state.nthreads)
        flow_version = self.sidecar.get("node_version")

        def check_version(sc: Sidecar) -> None:
            warning = node_choice.version_warning(flow_version, sc.node_version, spec["node"])
            if warning:
                self._tell_flow(worker, "warning", warning)

        pool.on_first_ready = check_version
        try:
            pool.start()
        except BaseException:
            pool.close_now()
            raise
        self.pool = pool
        import atexit

        atexit.register(pool.close_now)

    async def teardown(self, worker) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            await pool.close()
        view, self.view = self.view, None
        if view is not None:
            shipping.leave_view(view, self.name)
        from .client_service import forget_clients
        from .task import forget_worker

        forget_worker(worker)
        for closing in forget_clients(worker, self.name):  # the run client its tasks' sessions used
            try:
                await asyncio.wait_for(closing, 10)
            except Exception:
                pass


def get_pool(plugin_name: str) -> SidecarPool:
    """The sidecar pool of the plugin named ``plugin_name`` on the current worker."""
    from distributed import get_worker

    worker = get_worker()
    plugin = worker.plugins.get(plugin_name)
    if plugin is None or getattr(plugin, "pool", None) is None:
        failed = getattr(plugin, "setup_error", None)
        if failed:
            raise SidecarError(f"daskflow's worker plugin failed on worker {worker.address}: {failed}")
        raise SidecarError(
            f"daskflow worker plugin {plugin_name!r} is not installed on worker {worker.address} "
            "(was the run closed?)"
        )
    return plugin.pool
