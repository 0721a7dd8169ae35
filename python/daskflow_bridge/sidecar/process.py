"""One Node sidecar process and its framed channel (fd 3 requests, fd 4 replies; docs/bridge-protocol.md §3), and
the per-worker Lifeline that ends sidecars whose worker died."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import threading
import time
from typing import Any

from ..transfer.mapped_replies import MappedReplies
from ..transfer.protocol import OP_BAG, OP_READY, OP_RUN, SIDE_FILES_ENV, FrameReader, ProtocolError, SideFile, widen_pipe, write_frame
from ..transfer.worker_memory import MEMORY_ENV, WorkerMemory

READY_TIMEOUT = 60.0  # seconds a new sidecar may take to say `ready`


class SidecarError(RuntimeError):
    """A Node sidecar could not be started or did not follow the protocol."""


def _high_fd(fd: int) -> int:
    """Move ``fd`` above 9 (close-on-exec), so the fd 3/4 dup2s in the child never collide with it."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class Sidecar:
    """One Node process: we write requests to its fd 3 and read replies from its fd 4."""

    def __init__(self, spec: dict[str, Any], group: int | None = None):
        """Start Node per ``spec``; ``group``: the process group to join (a Lifeline's)."""
        node = spec.get("node") or "node"
        argv = [str(a) for a in spec.get("argv") or []]
        cwd = spec.get("cwd") or None
        env = dict(os.environ)
        env.update({str(k): str(v) for k, v in (spec.get("env") or {}).items()})
        req_r, req_w = (_high_fd(fd) for fd in os.pipe())
        rep_r, rep_w = (_high_fd(fd) for fd in os.pipe())
        widen_pipe(req_w)  # large task arguments and results (the pipe's size is shared by both ends)
        widen_pipe(rep_w)
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, req_r, 3),
            (os.POSIX_SPAWN_DUP2, rep_w, 4),
        ]
        # Side files for values of 1 MiB or more (transfer/framing.py): fd 5 for requests, fd 6 for replies.
        side_fds = [SideFile.create("daskflow-requests"), SideFile.create("daskflow-replies")]
        if min(side_fds) >= 0:
            side_fds = [_high_fd(fd) for fd in side_fds]
            actions += [(os.POSIX_SPAWN_DUP2, side_fds[0], 5), (os.POSIX_SPAWN_DUP2, side_fds[1], 6)]
            # results stay in the reply file (transfer/mapped_replies.py)
            env[SIDE_FILES_ENV] = "5,6,keep" if MappedReplies.available() else "5,6"
            memory = WorkerMemory(SideFile(side_fds[0]))
            env[MEMORY_ENV] = memory.env_value
        else:  # no memfd here: values go through the pipes
            memory = None
            for fd in side_fds:
                if fd >= 0:
                    os.close(fd)
            side_fds = []
        path = node if os.sep in node else _which(node, env.get("PATH", os.defpath))
        args = [node, *argv]
        if cwd is not None:
            # posix_spawn has no portable chdir action: a tiny sh changes directory, then execs Node
            # (fds 3/4 are already in place, so no fd juggling in the shell).
            args = ["sh", "-c", 'cd "$0" && exec "$@"', str(cwd), path, *argv]
            path = "/bin/sh"
        try:
            self.pid = _spawn(path, args, env, actions, 6 if side_fds else 4, group)
        except OSError as exc:
            for fd in (req_r, req_w, rep_r, rep_w, *side_fds):
                os.close(fd)
            raise SidecarError(f"cannot start the Node sidecar '{node}': {exc}") from exc
        os.close(req_r)
        os.close(rep_w)
        self.wfd = req_w
        self.side_fds = side_fds
        self.request_side = memory.fallback if memory is not None else None
        self.memory = memory  # used once the sidecar's `ready` says it can read this process (transfer/worker_memory.py)
        self.reads_memory = False
        self.replies = MappedReplies(side_fds[1]) if side_fds else None
        self.reader = FrameReader(rep_r, self.replies)
        self.ready = False
        self.node_version: str | None = None  # from its `ready`
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
        self.node_version = msg.get("node")
        self.reads_memory = msg.get("memory") is True and self.memory is not None
        if self.replies is not None:
            self.replies.keeping = msg.get("keep") is True
        self.ready = True

    def send(self, msg: dict[str, Any]) -> None:
        # Only requests whose inputs the worker holds until the answer may refer to its memory (transfer/worker_memory.py).
        answered = msg.get("op") in (OP_RUN, OP_BAG)
        reuse = self.replies.hand_out() if answered and self.replies is not None else []
        if reuse:  # freed reply ranges to write into (transfer/mapped_replies.py); most requests have none
            msg = {**msg, "reuse": reuse}
        write_frame(self.wfd, msg, self.memory if answered and self.reads_memory else self.request_side)

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
        for fd in self.side_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.side_fds = []

    def close_input(self) -> None:
        """Close the sidecar's fd 3 (EOF tells it to exit)."""
        if self.wfd >= 0:
            try:
                os.close(self.wfd)
            except OSError:
                pass
            self.wfd = -1


def _spawn(path: str, args: list[str], env: dict[str, str], actions: list[tuple], keep_up_to: int, group: int | None) -> int:
    """posix_spawn with the worker's other inheritable fds closed, in process group ``group`` when given."""
    kw = {} if group is None else {"setpgroup": group}
    try:
        return os.posix_spawn(path, args, env, file_actions=actions + _close_inherited(keep_up_to), **kw)
    except OSError as exc:
        if exc.errno == errno.EBADF:  # an fd closed between listing and spawning
            return os.posix_spawn(path, args, env, file_actions=actions, **kw)
        if exc.errno == errno.EPERM and group is not None:  # the group is gone (its lifeline was killed)
            return _spawn(path, args, env, actions, keep_up_to, None)
        raise


class Lifeline:
    """Ends a worker's sidecars when the worker process dies in any way, even sidecars stuck in synchronous JS.

    A tiny ``sh`` leads a new process group that the worker's sidecars join. It blocks reading a pipe whose only
    writer is the worker; the kernel closes that when the worker exits, and the shell then SIGKILLs its group
    (itself included). ``close`` does the same on purpose. Costs one idle shell per worker, instead of a watcher
    thread in every sidecar.
    """

    def __init__(self) -> None:
        r, self._w = (_high_fd(fd) for fd in os.pipe())
        try:
            self.pid = _spawn("/bin/sh", ["sh", "-c", "read _; kill -KILL 0"], {"PATH": os.environ.get("PATH", os.defpath)},
                              [(os.POSIX_SPAWN_DUP2, r, 0)], 2, 0)
        finally:
            os.close(r)

    def close(self) -> None:
        """SIGKILL whatever is left in the group, and reap the shell."""
        if self._w < 0:
            return
        os.close(self._w)
        self._w = -1
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:
                return
            time.sleep(0.005)


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
