"""One semaphore's takers in a session (slots.py), first come first served.

One acquire at a time goes to the scheduler, for the head of the queue (not one per waiting task, where every
release would wake them all). A lease given back goes straight to the next taker when ``handoff`` is on (a run-scope
limit: no other session competes for it), which saves the scheduler a release and an acquire per task; a
cluster-scope lease goes back to the scheduler, so the flow runs sharing it take turns there.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


def left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class Gate:
    def __init__(self, sem, handoff: bool):
        self.sem = sem  # a registered distributed.Semaphore: it renews the leases in its ``_leases``
        self.handoff = handoff
        self.waiters: deque[asyncio.Future] = deque()
        self.pump: asyncio.Task | None = None

    async def take(self, deadline: float | None) -> str | None:
        """A lease id, or None when the deadline passed first."""
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append(fut)
        if self.pump is None or self.pump.done():
            self.pump = asyncio.ensure_future(self._pump())
        try:
            return await asyncio.wait_for(asyncio.shield(fut), left(deadline))
        except asyncio.TimeoutError:
            self._abandon(fut)
            return None
        except asyncio.CancelledError:
            self._abandon(fut)
            raise

    def _abandon(self, fut: asyncio.Future) -> None:
        try:
            self.waiters.remove(fut)
        except ValueError:
            pass
        if fut.done() and not fut.cancelled():
            asyncio.ensure_future(self.give(fut.result()))  # granted as the taker gave up: pass it on
        else:
            fut.cancel()

    async def _pump(self) -> None:
        try:
            while self._drop_done():
                if not await self.sem._acquire(timeout=None):
                    continue
                lease = self.sem._leases[-1]
                if not self._grant(lease):
                    await self._release(lease)
        except Exception as exc:  # the scheduler is gone, say: the takers fail with it instead of waiting for ever
            while self.waiters:
                waiter = self.waiters.popleft()
                if not waiter.done():
                    waiter.set_exception(exc)

    def _drop_done(self) -> bool:
        while self.waiters and self.waiters[0].done():
            self.waiters.popleft()
        return bool(self.waiters)

    def _grant(self, lease: str) -> bool:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(lease)
                return True
        return False

    async def give(self, lease: str) -> None:
        if self.handoff and self._grant(lease):
            return  # still the session's lease, still renewed: now the next taker's
        await self._release(lease)

    async def _release(self, lease: str) -> None:
        try:
            self.sem._leases.remove(lease)  # no longer renewed
        except ValueError:
            return
        await self.sem._release(lease)

    def stop(self) -> None:
        if self.pump is not None:
            self.pump.cancel()  # an acquire in flight: a lease it still got is never renewed, so it expires
        for waiter in self.waiters:
            waiter.cancel()
        self.waiters.clear()
