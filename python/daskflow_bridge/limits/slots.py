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


class Slots:
    def __init__(self, session):
        self.session = session
        self.sems: dict[str, asyncio.Future] = {}  # semaphore name -> its registered Semaphore
        self.pending: dict[Any, asyncio.Future] = {}  # key -> its Dask future once submitted (tasks waiting here)
        self.waiting: dict[Any, asyncio.Task] = {}
        self.handles: dict[str, list] = {}  # concurrency() leases by handle
        self.locks: dict[str, asyncio.Lock] = {}  # per semaphore: the one acquire in flight (take)
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

    async def take(self, slots: list[dict[str, Any]], deadline: float | None):
        """Leases for every slot (``occupy`` each), in name order so that two takers never hold parts the other needs;
        the list of (semaphore, lease id), or the slot that timed out (its leases given back).

        One acquire per semaphore is in flight from this session at a time: the others queue here, first come first
        served, instead of each waiting on the scheduler (where every release would wake them all)."""
        taken: list = []
        for slot in sorted(slots, key=lambda s: s["semaphore"]):
            sem = await self.semaphore(slot)
            lock = self.locks.setdefault(slot["semaphore"], asyncio.Lock())
            occupy = int(slot.get("occupy") or 1)
            while True:
                got: list = []
                if await _locked(lock, deadline):
                    try:
                        for i in range(occupy):
                            # Beyond the first lease of a multi-slot occupy, take without waiting: two takers each
                            # holding part of what the other needs would wait for ever; back off and retry instead.
                            ok = await sem._acquire(timeout=_left(deadline) if i == 0 else 0)
                            if not ok:
                                break
                            got.append((sem, sem._leases[-1]))
                    finally:
                        lock.release()
                if len(got) == occupy:
                    taken += got
                    break
                await self.give_back(got)
                if deadline is not None and time.monotonic() >= deadline:
                    await self.give_back(taken)
                    return slot
                await asyncio.sleep(random.uniform(0.02, 0.1))
        return taken

    async def give_back(self, taken: list) -> None:
        for sem, lease in taken:
            try:
                sem._leases.remove(lease)  # no longer renewed
            except ValueError:
                continue
            await sem._release(lease)

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
        for made in self.sems.values():
            if made.done() and not made.cancelled() and made.exception() is None:
                callback = getattr(made.result(), "refresh_callback", None)
                if callback is not None:
                    callback.stop()


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


async def _locked(lock: asyncio.Lock, deadline: float | None) -> bool:
    """Takes ``lock`` by the deadline (False if not)."""
    try:
        await asyncio.wait_for(lock.acquire(), _left(deadline))
        return True
    except asyncio.TimeoutError:
        return False
