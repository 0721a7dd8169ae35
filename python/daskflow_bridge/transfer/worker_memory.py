"""Large values a worker hands its Node sidecar in place: the sidecar reads them straight out of the worker's memory
(``/proc/<worker pid>/mem``) instead of the worker first copying them into the request side file (framing.py).

Why: on the way into a downstream task a 100 MiB upstream result was written into the side file (100 MiB of new
shared memory) and then read out of it by the sidecar (100 MiB more): two fresh allocations and two copies where one
of each will do, and fresh memory is what costs most on a VM (each new page faults, often into the host).

A reference is process_memory.py's (handle 0: the sidecar hands nothing back). The value must stay alive and
unchanged until the sidecar has decoded the frame: only ``run`` and ``bag`` requests use references (the worker
holds their inputs until the sidecar answers), and ``begin`` keeps the last frame's values besides.

The sidecar first reads the worker's token (``MEMORY_ENV``; process_memory.py) and says in its ``ready`` whether
it could (under Yama's ``ptrace_scope`` 1 or more a child may not read its parent); if not, the side file serves.
"""

from __future__ import annotations

from typing import Any

import msgpack

from .process_memory import MemoryToken, reference

MEMORY_ENV = "DASKFLOW_WORKER_MEMORY"  # "pid:address:token-hex": what a new sidecar checks it can read


class WorkerMemory:
    """The ``side`` of a request frame (framing.encode_parts) that refers to large values where they are; a value
    that is not one contiguous buffer goes to ``fallback`` (the request side file)."""

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback  # the request side file
        self._held: list[Any] = []
        self._token = MemoryToken()
        self.env_value = self._token.value

    def begin(self) -> None:
        self._held = []  # the previous frame's values: decoded by now (its reply came before this request)
        self.fallback.begin()

    def put(self, data: Any) -> msgpack.ExtType:
        ref = reference(data)
        if ref is None:
            return self.fallback.put(data)
        self._held.append(data)
        return ref
