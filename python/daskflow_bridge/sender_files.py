"""Large values from the bridge to the flow process through files instead of the socket (Linux).

A 100 MiB gathered result through the reply socket costs a copy into asyncio's write buffer, ~100 socket turns and
~1,600 reads on the Node side. Instead each binary value of 1 MiB or more goes into a memfd of its own, and the
frame holds a reference (MessagePack ext type 2: fd number u32, length u64, big-endian); the flow process opens
``/proc/<bridge pid>/fd/<n>`` (a parent may read its child's files), reads the value in one go and sends
``release-files`` with the fd numbers. Several replies may be in flight at once, so every value has a file of its
own (the worker's side files serve one message at a time). A released file is kept for the next value (SPARES of
them, for SPARE_IDLE seconds): writing into pages that exist is much cheaper than into new ones.

Used only after the flow process showed it can read such a file: the bridge sends ``side-probe`` (a memfd holding
PROBE) first, the flow process answers ``side-files`` with ``ok``.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import msgpack

from .framing import SENDER_FILE_EXT, Opaque

PROBE = b"daskflow-side-probe"
SPARES = 2  # released files kept for the next values
SPARE_IDLE = 2.0  # seconds a spare file is kept unused before it is closed
SENDER_FILES_ENV = "DASKFLOW_SENDER_FILES"  # "1": the flow process will read value files (it set this when spawning)
_REF = struct.Struct(">IQ")


class SenderFiles:
    """The bridge's files of values the flow process has not read yet."""

    def __init__(self) -> None:
        self.open: set[int] = set()
        self.spares: list[tuple[int, float]] = []  # (fd, when released)

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
        view = data.view if isinstance(data, Opaque) else memoryview(data).cast("B")
        fd = self.spares.pop()[0] if self.spares else os.memfd_create("daskflow-value", os.MFD_CLOEXEC)
        try:
            done = 0
            while done < view.nbytes:
                done += os.pwrite(fd, view[done:], done)
        except BaseException:
            os.close(fd)
            raise
        self.open.add(fd)
        return msgpack.ExtType(SENDER_FILE_EXT, _REF.pack(fd, view.nbytes))

    def release(self, fds: list[Any], keep: bool = True) -> None:
        """The reader is done with these files: kept as spares (up to SPARES), else closed."""
        import time

        for fd in fds:
            if isinstance(fd, int) and fd in self.open:
                self.open.discard(fd)
                if keep and len(self.spares) < SPARES:
                    self.spares.append((fd, time.monotonic()))
                else:
                    os.close(fd)

    def drop_idle_spares(self) -> None:
        """Closes the spare files unused for SPARE_IDLE seconds (call it now and then)."""
        import time

        now = time.monotonic()
        for fd, since in [s for s in self.spares if now - s[1] >= SPARE_IDLE]:
            self.spares.remove((fd, since))
            os.close(fd)

    def close(self) -> None:
        self.release(list(self.open), keep=False)
        for fd, _ in self.spares:
            os.close(fd)
        self.spares = []
