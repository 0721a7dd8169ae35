"""The asynchronous Client a worker keeps for each run, made on the worker's loop when a task's session
(client_service.py) first needs it, closed by the run's plugin teardown."""

from __future__ import annotations

import asyncio
from typing import Any

from .credentials import client_security

# (worker, run plugin) -> its client, being made or made
_clients: dict[tuple[int, str], "asyncio.Future[Any]"] = {}


async def client_for(worker, plugin_name: str):
    from distributed import Client

    k = (id(worker), plugin_name)
    made = _clients.get(k)
    if made is not None and made.done() and (made.exception() is not None or made.result().status not in ("running", "connecting")):
        made = None
    if made is None:
        made = _clients[k] = asyncio.ensure_future(Client(
            worker.scheduler.address, asynchronous=True, security=client_security(worker.security), set_as_default=False,
            name=f"daskflow-{plugin_name}",
        ))
    return await made


def forget_clients(worker, plugin_name: str) -> list:
    """The closes of the clients a run's plugin left on ``worker`` (awaited by its teardown)."""
    made = _clients.pop((id(worker), plugin_name), None)
    if made is None or not made.done() or made.exception() is not None:
        return []
    return [made.result().close()]
