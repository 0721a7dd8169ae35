"""The Client a session works with, and the cluster it was made with when the bridge created one (bridge/cluster.py
makes it for the bridge process; a worker's client service wraps the run's client in one)."""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from distributed import Client


@dataclass
class Connection:
    client: Client
    cluster: Any = None
    created: bool = False
    plugin_preinstalled: bool = False
    # A cluster class without `asynchronous` runs in Dask's synchronous mode (its own event loop thread): it is
    # built, adapted and closed from a worker thread, never on the bridge's loop.
    synchronous: bool = False
    # Results are fetched from the workers directly when they are this host's own (a LocalCluster the bridge made):
    # one transfer instead of two through the scheduler. None: as the Client decides (`direct_to_workers`), since
    # a remote cluster's workers may not be reachable from here.
    gather_direct: bool | None = None
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    async def close(self) -> None:
        try:
            if self.client is not None:
                await self.client.close()
        finally:
            if self.created and self.cluster is not None:
                await self.close_cluster()

    async def close_cluster(self) -> None:
        if self.synchronous:
            await asyncio.to_thread(self.cluster.close)
            return
        res = self.cluster.close()
        if inspect.isawaitable(res):
            await res
