"""``run_task``: the module-level function Dask runs for every daskflow task (docs/bridge-protocol.md §3)."""

from __future__ import annotations

import threading
import time
from typing import Any

from ..results.store import persist_done
from ..sidecar.pool import SidecarPool, get_pool
from ..sidecar.process import Sidecar, SidecarError
from ..transfer.large_value import LargeValue, wrap
from ..transfer.protocol import (
    OP_BRIDGE,
    OP_CRASH_ENVELOPE,
    OP_DONE,
    OP_EVENT,
    OP_RUN,
    OP_SECEDE,
    OP_TIMEOUT_ENVELOPE,
    ChannelClosed,
    ProtocolError,
)
from .client_service import TaskSessions
from .events import batcher

_this_task = threading.local()  # per task thread: whether the running task has seceded (at most once)
HARD_TIMEOUT_GRACE = 2.0  # seconds on top of meta.timeout_seconds before the sidecar is killed
ENVELOPE_TIMEOUT = 30.0  # seconds a fresh sidecar gets to answer timeout-/crash-envelope


class SidecarCrashed(RuntimeError):
    """The sidecar died and no replacement could produce the CRASHED envelope."""


class _Crashed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _TimedOut(Exception):
    def __init__(self, attempt: int):
        super().__init__(attempt)
        self.attempt = attempt


def run_task(spec: bytes, args: bytes, meta: dict, topic: str, plugin_name: str, *dep_results: Any) -> Any:
    """Run one daskflow task on a warm Node sidecar of this worker; return its result envelope (bytes; a large one a
    LargeValue)."""
    from distributed import get_worker

    worker = get_worker()
    pool = get_pool(plugin_name)
    context = {
        "topic": topic,
        "scheduler_address": worker.scheduler.address,
        "worker_address": worker.address,
    }
    key = _current_key()
    timeout = meta.get("timeout_seconds")
    retries = int(meta.get("retries") or 0)

    events = batcher(worker, topic)
    _this_task.seceded = False

    def log_event(data: Any) -> None:
        events.add(data)

    sessions = TaskSessions(worker, plugin_name, _secede_once, run_task)
    sc = pool.borrow()
    try:
        attempt = 0
        while True:
            try:
                return _run_once(sc, key, spec, args, dep_results, meta, context, attempt, timeout, log_event, sessions)
            except _TimedOut as t:
                sessions.finish()
                sc = pool.replace(sc)
                if t.attempt < retries:
                    attempt = t.attempt + 1
                    continue
                return _ask_envelope(pool, sc, {"op": OP_TIMEOUT_ENVELOPE, "key": key, "meta": meta, "attempt": t.attempt}, log_event)
            except _Crashed as c:
                sessions.finish()
                sc = pool.replace(sc)
                return _ask_envelope(pool, sc, {"op": OP_CRASH_ENVELOPE, "key": key, "meta": meta, "reason": c.reason}, log_event)
    except BaseException:
        if sc is not None:
            pool._discard(sc, kill=True)
            sc = None
        raise
    finally:
        sessions.finish()  # before the sidecar serves another task: nothing of this one's session may reach it
        if sc is not None:
            pool.give_back(sc)


def _secede_once() -> None:
    """Leave the worker's thread pool (once per task), as Dask's worker_client() does for a task that waits on
    tasks it submitted: otherwise a small cluster deadlocks. The thread ends when the task does."""
    if not getattr(_this_task, "seceded", False):
        from distributed import secede

        secede()
        _this_task.seceded = True


def _current_key() -> Any:
    from distributed.worker import thread_state

    return getattr(thread_state, "key", None)


def _run_once(sc: Sidecar, key, spec, args, deps, meta, context, attempt, timeout, log_event, sessions) -> bytes:
    """One `run` exchange. The hard deadline is (re)armed when the run is sent and at every RUNNING state event
    (an in-sidecar attempt starts), and suspended by any other state event (e.g. waiting for a retry delay)."""
    try:
        sc.send({
            "op": OP_RUN, "key": key, "spec": spec, "args": args, "deps": list(deps),
            "meta": meta, "context": context, "attempt": attempt,
        })
    except OSError:
        raise _Crashed(_wait_reason(sc)) from None
    limit = None if timeout is None else float(timeout) + HARD_TIMEOUT_GRACE
    deadline = None if limit is None else time.monotonic() + limit
    current_attempt = attempt
    running_seen = 0
    while True:
        try:
            msg = sc.read(deadline)
        except ChannelClosed:
            raise _Crashed(_wait_reason(sc)) from None
        if msg is None:
            raise _TimedOut(current_attempt)
        op = msg.get("op")
        if op == OP_EVENT:
            data = msg.get("data")
            log_event(data)
            if limit is not None and isinstance(data, dict) and data.get("kind") == "state":
                st = (data.get("state") or {}).get("type")
                if st == "RUNNING":
                    if isinstance(data.get("attempt"), int):  # the sidecar's run count (1-based)
                        current_attempt = data["attempt"] - 1
                    elif running_seen:
                        current_attempt += 1
                    running_seen += 1
                    deadline = time.monotonic() + limit
                else:
                    deadline = None
        elif op == OP_BRIDGE:
            # The task submits tasks or uses a client: its worker serves the session (client_service.py).
            sessions.deliver(sc, msg.get("message"))
        elif op == OP_SECEDE:
            _secede_once()
        elif op == OP_DONE:
            env = msg.get("envelope")
            if not isinstance(env, (bytes, bytearray, LargeValue)):
                raise ProtocolError(f"sidecar 'done' without a binary envelope for task {key!r}")
            if msg.get("event") is not None:  # the final state event rides on `done`: one pipe write less per task
                log_event(msg["event"])
            if meta.get("persist") or meta.get("persist_items"):  # this worker writes what it computed
                state = (msg.get("event") or {}).get("state") or {}
                # Only a completed run's value is a result: a failed one's envelope carries its error.
                persist_done(meta, env if state.get("type") == "COMPLETED" else None, msg.get("persist"),
                             context.get("worker_address", ""), log_event)
            return wrap(env)  # a large one as a LargeValue: no copy when Dask receives it elsewhere
        else:
            raise ProtocolError(f"unexpected message {op!r} from the Node sidecar while running {key!r}")


def _wait_reason(sc: Sidecar) -> str:
    sc.wait(1.0)  # EOF usually precedes the exit status by a moment
    return sc.exit_reason()


def _ask_envelope(pool: SidecarPool, sc: Sidecar, request: dict, log_event=None) -> bytes:
    """Ask a fresh sidecar to build the TIMEOUT/CRASHED envelope (only it knows the envelope format)."""
    what = request["op"]
    try:
        sc.send(request)
        deadline = time.monotonic() + ENVELOPE_TIMEOUT
        while True:
            msg = sc.read(deadline)
            if msg is None:
                raise SidecarError(f"Node sidecar did not answer {what!r} within {ENVELOPE_TIMEOUT:g} s")
            if msg.get("op") == OP_DONE and isinstance(msg.get("envelope"), (bytes, bytearray, LargeValue)):
                if log_event is not None and msg.get("event") is not None:
                    log_event(msg["event"])
                return msg["envelope"]
            if msg.get("op") == OP_EVENT:
                continue
            raise ProtocolError(f"unexpected message {msg.get('op')!r} in answer to {what!r}")
    except (ChannelClosed, OSError, SidecarError, ProtocolError) as exc:
        reason = request.get("reason") or "hard timeout"
        raise SidecarCrashed(f"{reason}; and the replacement sidecar failed while building the envelope: {exc}") from exc
