"""A session's concurrency slots (docs/hooks-and-limits.md), held on the Dask scheduler with distributed's Semaphore.

A task tagged with a limited tag waits here, in the session, for a lease of each of its limits *before* its Dask task
is submitted: a waiting task holds no worker thread. Its leases go back when its Dask future completes. While held,
the holding client renews them; when it dies (a killed bridge or worker), the scheduler drops them after
``distributed.scheduler.locks.lease-timeout``. ``concurrency()`` inside a task takes leases on the same semaphores
through its worker's session (``limit-acquire`` / ``limit-release``, served by ``request``).

The session is duck-typed (``_client()``, ``futures``, ``ac``, ``has_futures``, ``_map_group``, ``send``): this
package imports nothing of the layers above it.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

from distributed import Semaphore
from distributed.client import _wait

from .gate import Gate, left


class Slots:
    def __init__(self, session):
        self.session = session
        self.sems: dict[str, asyncio.Future] = {}  # semaphore name -> its registered Semaphore
        self.pending: dict[Any, asyncio.Future] = {}  # key -> its Dask future once submitted (tasks waiting here)
        self.waiting: dict[Any, asyncio.Task] = {}
        self.handles: dict[str, list] = {}  # concurrency() leases by handle
        self.gates: dict[str, Gate] = {}  # per semaphore: its takers in this session, first come first served
        self.locks: dict[str, asyncio.Lock] = {}  # per semaphore: one multi-lease take at a time (_take_many)
        self.run_scoped: set[str] = set()  # semaphores of this flow run only, closed when it ends

    # ------------------------------------------------------------------ tasks
    def route(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Takes the tasks that need slots (or depend on one waiting here); returns the others."""
        rest = []
        for t in tasks:
            if t.get("concurrency") or any(d in self.pending for d in t.get("deps") or []):
                key = t.get("key")
                self.pending[key] = asyncio.get_running_loop().create_future()
                self.waiting[key] = asyncio.ensure_future(self._admit(t))
            else:
                rest.append(t)
        return rest

    async def _admit(self, t: dict[str, Any]) -> None:
        key, session = t["key"], self.session
        taken: list = []
        try:
            deps = [session.futures[d] if d in session.futures else await self.pending[d] for d in t.get("deps") or []]
            if deps:
                await _wait(deps)  # a slot is taken only by a task that can start: its upstreams are done
            request = t.get("concurrency") or {}
            timeout = request.get("timeout_seconds")
            deadline = None if timeout is None else time.monotonic() + timeout
            if request:  # the flow process counts these (the progress line's "waiting for tag 'db'")
                tags = ", ".join(f"'{s['tag']}'" for s in request["slots"])
                self._state(t, "SCHEDULED", "AwaitingConcurrencySlot", f"Waiting for a slot of tag {tags}")
            got = await self.take(request.get("slots") or [], deadline)
            if not isinstance(got, list):
                self._timed_out(t, got, timeout)
                return
            taken = got
            if request:
                self._state(t, "SCHEDULED", "Scheduled", None)
            client = session._client()
            [fut] = session._map_group(client, [t], len(deps), deps)
            session.futures[key] = fut
            session.ac.update([fut])
            session.has_futures.set()
            self.pending.pop(key).set_result(fut)
            self.waiting.pop(key, None)
            if taken:
                await _wait([fut])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            session.done_error(key, exc)
        finally:
            fut_wait = self.pending.pop(key, None)
            if fut_wait is not None and not fut_wait.done():  # its dependents waiting here end as Dask errors (NotReady)
                fut_wait.set_exception(RuntimeError(f"upstream task {key!r} was not submitted (it did not get its slots)"))
                fut_wait.exception()  # retrieved: asyncio does not warn about it
            self.waiting.pop(key, None)
            if taken:
                asyncio.ensure_future(self.give_back(taken))  # not cancelled with the session's tasks

    def _timed_out(self, t: dict[str, Any], slot: dict[str, Any], timeout: float) -> None:
        message = (f"Task run '{(t.get('meta') or {}).get('task_run_name')}' waited more than {timeout}s for a slot of "
                   f"concurrency limit '{slot['tag']}' ({slot['limit']} at a time, {slot['scope']} scope) and did not run.")
        self._state(t, "FAILED", "TimedOut", message, {"name": "TaskTimeoutError", "message": message})

    def _state(self, t: dict[str, Any], type_: str, name: str, message: str | None, error: dict | None = None) -> None:
        """A state event for the task's run(s), as a worker sends them (a batch's items all get it)."""
        record: dict[str, Any] = {"type": type_, "name": name, "timestamp": int(time.time() * 1000)}
        if message is not None:
            record["message"] = message
        if error is not None:
            record["error"] = error
        items = (t.get("concurrency") or {}).get("items")
        base = {"key": t["key"], "task_run_id": (t.get("meta") or {}).get("task_run_id")}
        data = {**base, "kind": "batch-states", "states": [record] * items} if items else {**base, "kind": "state", "state": record}
        self.session.send({"op": "event", "data": data})

    def cancel(self, keys: list[Any]) -> None:
        for key in keys:
            task = self.waiting.pop(key, None)
            if task is not None:
                task.cancel()

    # ------------------------------------------------------------------ semaphores
    async def semaphore(self, slot: dict[str, Any]) -> Semaphore:
        name = slot["semaphore"]
        made = self.sems.get(name)
        if made is None:
            made = self.sems[name] = asyncio.ensure_future(self._register(slot))
        try:
            return await asyncio.shield(made)
        except Exception:
            self.sems.pop(name, None)
            raise

    async def _register(self, slot: dict[str, Any]) -> Semaphore:
        client = self.session._client()
        if slot.get("scope") == "run":
            self.run_scoped.add(slot["semaphore"])
        sem = Semaphore(max_leases=int(slot["limit"]), name=slot["semaphore"], scheduler_rpc=client.scheduler, loop=client.loop)
        try:
            await sem
        except ValueError as exc:
            if "Inconsistent max leases" not in str(exc):
                raise
            raise ValueError(f"concurrency limit '{slot['tag']}' ({slot['scope']} scope) is already held on this cluster with "
                             f"another number of slots than {slot['limit']} ({exc}); give it the same limit in every flow run "
                             "that shares the cluster") from None
        return sem

    async def gate(self, slot: dict[str, Any]) -> Gate:
        name = slot["semaphore"]
        gate = self.gates.get(name)
        if gate is None:
            sem = await self.semaphore(slot)
            gate = self.gates.setdefault(name, Gate(sem, handoff=slot.get("scope") == "run"))
        return gate

    async def take(self, slots: list[dict[str, Any]], deadline: float | None):
        """Leases for every slot (``occupy`` each), in name order so that two takers never hold parts the other needs;
        the list of (gate, lease id), or the slot that timed out (its leases given back)."""
        taken: list = []
        for slot in sorted(slots, key=lambda s: s["semaphore"]):
            gate = await self.gate(slot)
            occupy = int(slot.get("occupy") or 1)
            got = await (self._take_one(gate, deadline) if occupy == 1 else self._take_many(gate, occupy, deadline))
            if got is None:
                await self.give_back(taken)
                return slot
            taken += got
        return taken

    async def _take_one(self, gate: Gate, deadline: float | None) -> list | None:
        lease = await gate.take(deadline)
        return None if lease is None else [(gate, lease)]

    async def _take_many(self, gate: Gate, occupy: int, deadline: float | None) -> list | None:
        """Several leases of one semaphore (concurrency()'s occupy): the first waits, the rest are taken only if free
        at once. Two takers each holding part of what the other needs would wait for ever: back off and retry."""
        lock = self.locks.setdefault(gate.sem.name, asyncio.Lock())
        while True:
            got: list = []
            try:
                await asyncio.wait_for(lock.acquire(), left(deadline))
            except asyncio.TimeoutError:
                return None
            try:
                for i in range(occupy):
                    if not await gate.sem._acquire(timeout=left(deadline) if i == 0 else 0):
                        break
                    got.append((gate, gate.sem._leases[-1]))
            finally:
                lock.release()
            if len(got) == occupy:
                return got
            await self.give_back(got)
            if deadline is not None and time.monotonic() >= deadline:
                return None
            await asyncio.sleep(random.uniform(0.02, 0.1))

    async def give_back(self, taken: list) -> None:
        for gate, lease in taken:
            await gate.give(lease)

    # ------------------------------------------------------------------ concurrency() in a task or flow
    async def request(self, op: str, msg: dict[str, Any]) -> Any:
        if op == "limit-acquire":
            timeout = msg.get("timeout_seconds")
            slots = msg.get("slots") or []
            got = await self.take(slots, None if timeout is None else time.monotonic() + timeout)
            if not isinstance(got, list):
                return {"timed_out": got["tag"]}
            handle = uuid.uuid4().hex
            self.handles[handle] = got
            return {"handle": handle}
        await self.give_back(self.handles.pop(msg.get("handle"), []))
        return None

    async def close_run_scope(self, client) -> None:
        """The flow run ended (its bridge closes): its run-scope semaphores leave the scheduler, which a shared
        scheduler would otherwise keep one entry of per flow run."""
        names, self.run_scoped = self.run_scoped, set()
        for name in names:
            await client.scheduler.semaphore_close(name=name)

    def stop(self) -> None:
        """The session ends: nothing waits any more, nothing is renewed (the scheduler drops what is left after the
        lease timeout; normally nothing is: a finished task gave its leases back)."""
        for task in list(self.waiting.values()):
            task.cancel()
        for gate in self.gates.values():
            gate.stop()
        for made in self.sems.values():
            if made.done() and not made.cancelled() and made.exception() is None:
                callback = getattr(made.result(), "refresh_callback", None)
                if callback is not None:
                    callback.stop()

