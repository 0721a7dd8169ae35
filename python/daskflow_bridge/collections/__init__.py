"""Builders that turn a collection plan made in TypeScript (src/dask/collections/collection.ts) into a Dask collection.

One module per kind (``bag``, ``dataframe``), each with ``build(plan, ctx)``; nothing is evaluated from text: a plan
names operations from a fixed table.

The builders run where a session runs (session/): in the bridge process, or in a Dask worker serving a task's own
client. The Bag's partition tasks (``bag.run_partition``, pickled by reference) run on the workers, in a sidecar of
the run's pool (sidecar/pool.py).
"""

from __future__ import annotations

import importlib
from typing import Any

KINDS = ("bag", "dataframe")
# Each module: build(plan, client) -> a Dask collection, and async run(action, plan, args, client) -> wire data.


def builder(kind: str) -> Any:
    """The module that builds collections of ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"unknown collection kind {kind!r}; expected one of {', '.join(KINDS)}")
    return importlib.import_module(f"{__name__}.{kind}")


async def run(kind: str, action: str, plan: Any, args: dict[str, Any], client: Any) -> Any:
    """Runs ``action`` (e.g. ``compute``) on the collection ``plan`` of ``kind`` with the bridge's async Client.

    Each kind's module defines ``async def run(action, plan, args, client)`` and refuses actions it does not know.
    """
    return await builder(kind).run(action, plan, args, client)
