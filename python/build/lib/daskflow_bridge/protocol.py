"""Framing and message names shared by both daskflow channels (Python mirror of src/dask/protocol.ts).

Each frame is a 4-byte big-endian unsigned length followed by that many bytes of one MessagePack map with an
``op`` string. Binary values travel as MessagePack ``bin`` (``bytes`` here). See docs/bridge-protocol.md.
"""

from __future__ import annotations

import os
import select
import struct
import time
from typing import Any, Iterator

import msgpack

# ---- flow process -> bridge (requests)
OP_START = "start"
OP_SUBMIT = "submit"
OP_GATHER = "gather"
OP_RELEASE = "release"
OP_CANCEL = "cancel"
OP_WORKERS = "workers"
OP_CLOSE = "close"
OP_CALL = "call"  # getDaskClient(): run a Python callable by import path
OP_COMPUTE = "compute"  # getDaskClient(): evaluate an expression building a Dask collection
OP_SHIP = "ship"  # more shipped code for the run's workers (a pack; src/dask/shipping/)
OP_COLLECTION = "collection"  # a TS collection plan (Bag, DataFrame): an action run by the builder of its kind

# ---- bridge -> flow process
OP_REPLY = "reply"
OP_DONE = "done"
OP_EVENT = "event"
OP_LOG = "log"

# ---- worker (run_task) <-> Node sidecar
OP_READY = "ready"
OP_RUN = "run"
OP_TIMEOUT_ENVELOPE = "timeout-envelope"
OP_CRASH_ENVELOPE = "crash-envelope"
OP_SECEDE = "secede"  # sidecar -> worker: the task submits tasks of its own and will wait for them
# the sidecar also sends OP_EVENT and OP_DONE

STATUS_FINISHED = "finished"
STATUS_ERROR = "error"
STATUS_CANCELLED = "cancelled"

HEADER = struct.Struct(">I")
MAX_FRAME = 2**32 - 1


class ProtocolError(Exception):
    """A malformed frame or an unexpected message on a daskflow channel."""


class ChannelClosed(EOFError):
    """The peer closed its end of the channel."""


def encode(msg: dict[str, Any]) -> bytes:
    """One framed message: length prefix + msgpack map."""
    body = msgpack.packb(msg, use_bin_type=True)
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame too large ({len(body)} bytes)")
    return HEADER.pack(len(body)) + body


def decode_body(body: bytes | bytearray | memoryview) -> dict[str, Any]:
    msg = msgpack.unpackb(body, raw=False, strict_map_key=False)
    if not isinstance(msg, dict) or not isinstance(msg.get("op"), str):
        raise ProtocolError("frame is not a msgpack map with an 'op' string")
    return msg


class FrameDecoder:
    """Incremental decoder: feed bytes, iterate complete messages."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[dict[str, Any]]:
        self._buf += data
        buf = self._buf
        pos = 0
        n = len(buf)
        try:
            while n - pos >= 4:
                (size,) = HEADER.unpack_from(buf, pos)
                if n - pos - 4 < size:
                    break
                start = pos + 4
                pos = start + size
                yield decode_body(buf[start:pos])
        finally:
            if pos:
                del buf[:pos]

    @property
    def pending(self) -> int:
        return len(self._buf)


def write_frame(fd: int, msg: dict[str, Any]) -> None:
    """Blocking write of one frame to a file descriptor."""
    data = memoryview(encode(msg))
    while data:
        n = os.write(fd, data)
        data = data[n:]


class FrameReader:
    """Blocking reader of frames from a file descriptor, with optional deadlines."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._decoder = FrameDecoder()
        self._ready: list[dict[str, Any]] = []

    def read(self, deadline: float | None = None) -> dict[str, Any] | None:
        """Next message; ``None`` if ``deadline`` (a ``time.monotonic()`` value) passed first.

        Raises ChannelClosed on EOF.
        """
        while not self._ready:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                r, _, _ = select.select([self.fd], [], [], remaining)
                if not r:
                    return None
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                raise ChannelClosed("channel closed by peer")
            self._ready.extend(self._decoder.feed(chunk))
        return self._ready.pop(0)


def read_frame(fd: int) -> dict[str, Any]:
    """Read exactly one frame (blocking) from ``fd`` without over-reading."""
    header = _read_exact(fd, 4)
    (size,) = HEADER.unpack(header)
    return decode_body(_read_exact(fd, size))


def _read_exact(fd: int, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = os.read(fd, n - len(out))
        if not chunk:
            raise ChannelClosed("channel closed by peer")
        out += chunk
    return bytes(out)


def error_info(exc: BaseException) -> dict[str, str]:
    """``{name, message, stack}`` for an exception, as the protocol's ``error`` field."""
    import traceback

    return {
        "name": type(exc).__name__,
        "message": str(exc),
        "stack": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }
