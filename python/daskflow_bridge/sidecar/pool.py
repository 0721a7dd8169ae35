"""A worker's pool of warm Node sidecars for one run (docs/bridge-protocol.md §3): the WorkerPlugin (worker/plugin.py)
starts it, run_task and Bag partition tasks borrow from it (``get_pool``)."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import threading
import time
from typing import Any

from ..transfer.protocol import ChannelClosed, ProtocolError
from .process import Lifeline, Sidecar, SidecarError

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
