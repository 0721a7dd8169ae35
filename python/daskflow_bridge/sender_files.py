"""Large values from the bridge to the flow process through files instead of the socket (Linux).

A 100 MiB gathered result through the reply socket costs a copy into asyncio's write buffer, ~100 socket turns and
~1,600 reads on the Node side. Instead each binary value of 1 MiB or more goes into a memfd of its own, and the
frame holds a reference (MessagePack ext type 2: fd number u32, length u64, big-endian); the flow process opens
``/proc/<bridge pid>/fd/<n>`` (a parent may read its child's files), reads the value in one go and sends
``release-files`` with the fd numbers, which closes them here. Several replies may be in flight at once, so every
value has its own file (the worker's side files serve one message at a time).

Used only after the flow process showed it can read such a file: the bridge sends ``side-probe`` (a memfd holding
PROBE) first, the flow process answers ``side-files`` with ``ok``.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import msgpack

from .framing import SENDER_FILE_EXT, pwrite_all

PROBE = b"daskflow-side-probe"
SENDER_FILES_ENV = "DASKFLOW_SENDER_FILES"  # "1": the flow process will read value files (it set this when spawning)
_REF = struct.Struct(">IQ")


class SenderFiles:
    """The bridge's files of values the flow process has not read yet."""

    def __init__(self) -> None:
        self.open: set[int] = set()

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
            if isinstance(fd, int) and fd in self.open:
                self.open.discard(fd)
                os.close(fd)

    def close(self) -> None:
        self.release(list(self.open))
