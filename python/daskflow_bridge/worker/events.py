"""A worker's task events, on their way to the run's event topic (docs/bridge-protocol.md §3, event batching)."""

from __future__ import annotations

import threading
import time
from typing import Any

EVENT_BATCH_INTERVAL = 0.02  # seconds; a worker sends at most one log_event per interval (per topic)
BATCH_KIND = "batch"  # {kind: "batch", events: [...]} on the topic; the bridge unpacks it into single events

_batchers: dict[tuple[int, str], "_EventBatcher"] = {}
_batchers_lock = threading.Lock()


class _EventBatcher:
    """Coalesces a worker's events for one topic: at most one scheduler message per interval instead of one per
    event (a per-task RUNNING event otherwise doubles the scheduler's message load for trivial tasks). An event
    after a quiet interval goes at once; events that follow within the interval wait for its end, together.

    Worker.log_event is thread-aware (from a task thread it does ``loop.add_callback(batched_send, ...)``);
    we only ever call it from the worker's event loop, in ``_flush``.
    """

    def __init__(self, worker, topic: str):
        self.worker = worker
        self.topic = topic
        self.lock = threading.Lock()
        self.items: list[Any] = []
        self.scheduled = False
        self.last_flush = 0.0  # time.monotonic() of the last message sent

    def add(self, data: Any) -> None:
        with self.lock:
            self.items.append(data)
            if self.scheduled:
                return
            self.scheduled = True
            delay = self.last_flush + EVENT_BATCH_INTERVAL - time.monotonic()
        try:
            self.worker.loop.add_callback(self._arm, delay)
        except Exception:  # worker loop closed: drop the events rather than fail the task
            with self.lock:
                self.scheduled = False
                self.items.clear()

    def _arm(self, delay: float) -> None:
        if delay <= 0:
            self._flush()
        else:
            import asyncio

            asyncio.get_running_loop().call_later(delay, self._flush)

    def _flush(self) -> None:
        with self.lock:
            items, self.items = self.items, []
            self.scheduled = False
            self.last_flush = time.monotonic()
        if not items:
            return
        try:
            if len(items) == 1:
                self.worker.log_event(self.topic, items[0])
            else:
                self.worker.log_event(self.topic, {"kind": BATCH_KIND, "events": items})
        except Exception:
            pass


def batcher(worker, topic: str) -> _EventBatcher:
    k = (id(worker), topic)
    b = _batchers.get(k)
    if b is None or b.worker is not worker:
        with _batchers_lock:
            b = _batchers.get(k)
            if b is None or b.worker is not worker:
                b = _batchers[k] = _EventBatcher(worker, topic)
    return b


def forget_worker(worker) -> None:
    """Drop the event batchers of ``worker`` (plugin teardown), flushing what they still hold."""
    with _batchers_lock:
        mine = [k for k, b in _batchers.items() if b.worker is worker]
        batchers = [_batchers.pop(k) for k in mine]
    for b in batchers:
        b._flush()
