"""The daskflow WorkerPlugin: a pool of warm Node sidecars on each Dask worker (docs/bridge-protocol.md §3)."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import queue
import signal
import threading
import time
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from .protocol import OP_READY, ChannelClosed, FrameReader, ProtocolError, write_frame

logger = logging.getLogger("daskflow_bridge.plugin")

READY_TIMEOUT = 60.0  # seconds a new sidecar may take to say `ready`
TERM_GRACE = 3.0  # seconds between SIGTERM and SIGKILL on teardown
EOF_GRACE = 0.5  # seconds a sidecar gets to exit by itself after its fd 3 is closed


class SidecarError(RuntimeError):
    """A Node sidecar could not be started or did not follow the protocol."""


def _high_fd(fd: int) -> int:
    """Move ``fd`` above 9 (close-on-exec), so the fd 3/4 dup2s in the child never collide with it."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class Sidecar:
    """One Node process: we write requests to its fd 3 and read replies from its fd 4."""

    def __init__(self, spec: dict[str, Any]):
        node = spec.get("node") or "node"
        argv = [str(a) for a in spec.get("argv") or []]
        cwd = spec.get("cwd") or None
        env = dict(os.environ)
        env.update({str(k): str(v) for k, v in (spec.get("env") or {}).items()})
        req_r, req_w = (_high_fd(fd) for fd in os.pipe())
        rep_r, rep_w = (_high_fd(fd) for fd in os.pipe())
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, req_r, 3),
            (os.POSIX_SPAWN_DUP2, rep_w, 4),
        ]
        path = node if os.sep in node else _which(node, env.get("PATH", os.defpath))
        args = [node, *argv]
        if cwd is not None:
            # posix_spawn has no portable chdir action: a tiny sh changes directory, then execs Node
            # (fds 3/4 are already in place, so no fd juggling in the shell).
            args = ["sh", "-c", 'cd "$0" && exec "$@"', str(cwd), path, *argv]
            path = "/bin/sh"
        try:
            try:
                self.pid = os.posix_spawn(path, args, env, file_actions=actions + _close_inherited(4))
            except OSError as exc:
                if exc.errno != errno.EBADF:
                    raise
                self.pid = os.posix_spawn(path, args, env, file_actions=actions)
        except OSError as exc:
            for fd in (req_r, req_w, rep_r, rep_w):
                os.close(fd)
            raise SidecarError(f"cannot start the Node sidecar '{node}': {exc}") from exc
        os.close(req_r)
        os.close(rep_w)
        self.wfd = req_w
        self.reader = FrameReader(rep_r)
        self.ready = False
        self.returncode: int | None = None
        self._lock = threading.Lock()

    # ---- protocol
    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        if self.ready:
            return
        msg = self.reader.read(deadline=time.monotonic() + timeout)
        if msg is None:
            raise SidecarError(f"Node sidecar pid {self.pid} did not send 'ready' within {timeout:g} s")
        if msg.get("op") != OP_READY:
            raise ProtocolError(f"Node sidecar pid {self.pid} sent {msg.get('op')!r} before 'ready'")
        self.ready = True

    def send(self, msg: dict[str, Any]) -> None:
        write_frame(self.wfd, msg)

    def read(self, deadline: float | None = None) -> dict[str, Any] | None:
        return self.reader.read(deadline)

    # ---- process state
    def poll(self) -> int | None:
        """Exit status (negative signal number when killed) or None while running; reaps the child."""
        with self._lock:
            if self.returncode is not None:
                return self.returncode
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -255  # reaped by someone else
                return self.returncode
            if pid == 0:
                return None
            self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode

    def wait(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while True:
            rc = self.poll()
            if rc is not None or time.monotonic() >= deadline:
                return rc
            time.sleep(0.01)

    def exit_reason(self) -> str:
        rc = self.poll()
        if rc is None:
            return "sidecar stopped responding"
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            return f"Node sidecar (pid {self.pid}) was killed by {name}"
        return f"Node sidecar (pid {self.pid}) exited with code {rc}"

    def kill(self) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.wait(5)
        self.close_fds()

    def close_fds(self) -> None:
        for attr in ("wfd",):
            fd = getattr(self, attr, -1)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, attr, -1)
        if self.reader.fd >= 0:
            try:
                os.close(self.reader.fd)
            except OSError:
                pass
            self.reader.fd = -1

    def close_input(self) -> None:
        """Close the sidecar's fd 3 (EOF tells it to exit)."""
        if self.wfd >= 0:
            try:
                os.close(self.wfd)
            except OSError:
                pass
            self.wfd = -1


def _close_inherited(above: int) -> list[tuple]:
    """Close actions for the worker's inheritable fds above ``above`` (e.g. multiprocessing's resource-tracker
    pipe): a sidecar must not keep the worker's pipes open, or their readers never see EOF."""
    try:
        fds = [int(f) for f in os.listdir("/proc/self/fd")]
    except OSError:
        return []
    out = []
    for fd in fds:
        if fd > above:
            try:
                if os.get_inheritable(fd):
                    out.append((os.POSIX_SPAWN_CLOSE, fd))
            except OSError:
                pass
    return out


def _which(cmd: str, path: str) -> str:
    for d in path.split(os.pathsep):
        cand = os.path.join(d or ".", cmd)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise SidecarError(f"cannot start the Node sidecar: '{cmd}' not found on PATH")


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

    def start(self) -> None:
        for _ in range(self.size):
            self._idle.put(self._spawn())

    def _spawn(self) -> Sidecar:
        if self.closed:
            raise SidecarError("the daskflow sidecar pool is closed (plugin torn down)")
        sc = Sidecar(self.spec)
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
        self.closed = True
        with self._lock:
            sidecars = list(self._all)
            self._all.clear()
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

    def close_now(self) -> None:
        """Synchronous last resort (process exit): SIGKILL everything."""
        self.closed = True
        with self._lock:
            sidecars = list(self._all)
            self._all.clear()
        for sc in sidecars:
            sc.kill()


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

    def __getstate__(self):  # never ship a live pool
        return {"name": self.name, "sidecar": self.sidecar}

    def __setstate__(self, state):
        self.name = state["name"]
        self.sidecar = state["sidecar"]
        self.pool = None

    def setup(self, worker) -> None:
        cwd = self.sidecar.get("cwd")
        if cwd and not os.path.isdir(cwd):
            raise SidecarError(f"sidecar cwd {cwd!r} does not exist on worker {worker.address}")
        pool = SidecarPool(self.sidecar, worker.state.nthreads)
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
        from .worker_task import forget_worker

        forget_worker(worker)


def get_pool(plugin_name: str) -> SidecarPool:
    """The sidecar pool of the plugin named ``plugin_name`` on the current worker."""
    from distributed import get_worker

    worker = get_worker()
    plugin = worker.plugins.get(plugin_name)
    if plugin is None or getattr(plugin, "pool", None) is None:
        raise SidecarError(
            f"daskflow worker plugin {plugin_name!r} is not installed on worker {worker.address} "
            "(was the run closed?)"
        )
    return plugin.pool
