"""Large values from the bridge to the flow process through files instead of the socket (Linux).

A 100 MiB gathered result through the reply socket costs a copy into asyncio's write buffer, ~100 socket turns and
~1,600 reads on the Node side. Instead each binary value of 1 MiB or more goes into a memfd of its own, and the
frame holds a reference (MessagePack ext type 2: fd number u32, length u64, big-endian); the flow process opens
``/proc/<bridge pid>/fd/<n>`` (a parent may read its child's files), reads the value in one go and sends
``release-files`` with the fd numbers, which closes them here. Several replies may be in flight at once, so every
value has its own file (the worker's side files serve one message at a time).

Used only after the flow process showed it can read such a file: the bridge sends ``side-probe`` (a memfd holding
PROBE) first, the flow process answers ``side-files`` with ``ok``.

Better still, when the flow process can also read the bridge's memory (the probe's ``memory`` token,
process_memory.py; its answer's ``memory``), a value is not written to a file at all: the frame refers to it where
Dask received it (process_memory.py's reference, with a handle), the bridge holds it until the flow process hands
the handle back in ``release-files``, and the flow process reads it from ``/proc/<bridge pid>/mem``.
That saves a fresh copy of every large result in the bridge.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import msgpack

from .framing import SENDER_FILE_EXT, pwrite_all
from .process_memory import MemoryToken, reference

PROBE = b"daskflow-side-probe"
SENDER_FILES_ENV = "DASKFLOW_SENDER_FILES"  # "1": the flow process will read value files (it set this when spawning)
_REF = struct.Struct(">IQ")
_FIRST_HANDLE = 1 << 30  # handles of values held in memory: never an fd number


class SenderFiles:
    """The bridge's files of values the flow process has not read yet."""

    def __init__(self) -> None:
        self.open: set[int] = set()
        self.held: dict[int, Any] = {}  # handle -> a value the flow process reads from this process's memory
        self.token = MemoryToken()
        self.in_memory = False  # the flow process read the token
        self._next = _FIRST_HANDLE

    @staticmethod
    def available() -> bool:
        return hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")

    def probe(self) -> int:
        fd = os.memfd_create("daskflow-probe", os.MFD_CLOEXEC)
        os.pwrite(fd, PROBE, 0)
        self.open.add(fd)
        return fd

    def begin(self) -> None:
        pass

    def put(self, data: Any) -> msgpack.ExtType:
        ref = reference(data, self._next) if self.in_memory else None
        if ref is not None:
            self.held[self._next] = data
            self._next += 1
            return ref
        fd = os.memfd_create("daskflow-value", os.MFD_CLOEXEC)
        try:
            n = pwrite_all(fd, data, 0)
        except BaseException:
            os.close(fd)
            raise
        self.open.add(fd)
        return msgpack.ExtType(SENDER_FILE_EXT, _REF.pack(fd, n))

    def release(self, fds: list[Any]) -> None:
        for fd in fds:
            if isinstance(fd, int) and self.held.pop(fd, None) is not None:
                continue
            if isinstance(fd, int) and fd in self.open:
                self.open.discard(fd)
                os.close(fd)

    def close(self) -> None:
        self.release(list(self.open))
        self.held.clear()
