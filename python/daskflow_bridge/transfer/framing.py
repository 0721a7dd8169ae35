"""Frames of both daskflow channels (mirror of src/transfer/framing.ts): a 4-byte big-endian length, then one
MessagePack map.

Large values must move in time linear in their size with few copies: a task's 100 MiB result crosses this code
on the worker (sidecar -> Dask) and in the bridge (Dask -> flow process), and an upstream result on its way into a
downstream sidecar. So:

- large binary values are written by reference (``encode_parts`` + ``os.writev``), never copied into the frame;
- a frame that spans reads is read straight into one buffer of its size (no re-concatenation per chunk);
- the largest binary value at the top level of such a frame is returned as that very buffer, trimmed to it (a
  ``bytearray``), instead of being copied out of it;
- between a Dask worker and its Node sidecar (same host, Linux), binary values of 1 MiB or more do not go through
  the pipe at all: the writer puts them in a side file (a memfd each way, ``SideFile``) and the frame holds a
  reference (MessagePack ext type 1: offset and length, two big-endian u64). A pipe moves a 100 MiB result in ~100
  turns between the two processes, each a wait for the other to be scheduled; the side file in one write and one
  read. At most one request with side data is in flight (``run``, then its ``done``), so each request's side data
  starts at offset 0 and the reader empties the file once it has read a frame's values. Replies are kept in place
  instead (mapped_replies.py), and task inputs can be read from the worker's memory (worker_memory.py).

This module has what both ends share and the writing; reading.py reads frames.
"""

from __future__ import annotations

import fcntl
import os
import socket
import stat
import struct
from collections import deque
from typing import Any

import msgpack

HEADER = struct.Struct(">I")
MAX_FRAME = 2**32 - 1
BY_REFERENCE = 64 * 1024  # binary values of at least this size are parts of their own when writing
LARGE = 1 << 20  # frames of at least this size are decoded without copying their largest binary value
READ_SIZE = 1 << 16  # a read when no large frame is being filled
PIPE_SIZE = 1 << 20  # what a sidecar's pipes hold: fewer, longer turns between writer and reader than 64 KiB
_IOV_MAX = 512  # parts per writev (Linux takes up to 1024)
SIDE_EXT = 1  # MessagePack ext type of a reference into the channel's side file
SENDER_FILE_EXT = 2  # MessagePack ext type of a reference to a file of the sender's (sender_files.py)
SIDE_MIN = 1 << 20  # binary values of at least this size go through the side file when the channel has one
SIDE_FILES_ENV = "DASKFLOW_SIDE_FILES"  # tells a sidecar its side files' fds: "requests,replies"

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


class ProtocolError(Exception):
    """A malformed frame or an unexpected message on a daskflow channel."""


class ChannelClosed(EOFError):
    """The peer closed its end of the channel."""


class Opaque:
    """Bytes held as a flat memoryview (``view``) by an object that is not itself a buffer (large_value.py's
    LargeValue): channels write its bytes."""

    __slots__ = ("view",)


def pwrite_all(fd: int, data: Any, offset: int) -> int:
    """Writes the bytes of ``data`` (a buffer or an Opaque) to ``fd`` at ``offset``; returns how many."""
    view = data.view if isinstance(data, Opaque) else memoryview(data).cast("B")
    done = 0
    while done < view.nbytes:
        done += os.pwrite(fd, view[done:], offset + done)
    return view.nbytes


class SideFile:
    """One direction's side file (see the module's doc): the writer ``put``s values, the reader ``get``s them and
    then ``clear``s the file, which frees its memory."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._end = 0  # where the next value of the message being written goes
        self.used = False  # the frame being decoded read values from the file

    @staticmethod
    def create(name: str) -> int:
        """A new memfd (close-on-exec), or -1 where there is none (not Linux)."""
        try:
            return os.memfd_create(name, os.MFD_CLOEXEC)
        except (AttributeError, OSError):
            return -1

    def begin(self) -> None:
        self._end = 0

    def put(self, data: Any) -> msgpack.ExtType:
        offset = self._end
        n = pwrite_all(self.fd, data, offset)
        self._end += n
        return msgpack.ExtType(SIDE_EXT, struct.pack(">QQ", offset, n))

    def get(self, code: int, payload: bytes) -> Any:
        if code != SIDE_EXT:
            return msgpack.ExtType(code, payload)
        offset, n = struct.unpack(">QQ", payload)
        data = os.pread(self.fd, n, offset)  # one copy into a new bytes (a memfd read returns all of it)
        if len(data) < n:
            pieces = [data]
            while sum(map(len, pieces)) < n:
                done = sum(map(len, pieces))
                piece = os.pread(self.fd, n - done, offset + done)
                if not piece:
                    raise ProtocolError(f"side file ends at {offset + done}, before the {n} bytes a frame refers to")
                pieces.append(piece)
            data = b"".join(pieces)
        self.used = True
        return data

    def clear(self) -> None:
        if self.used:
            self.used = False
            os.ftruncate(self.fd, 0)


# ---------------------------------------------------------------------------------------------------- writing


def encode_parts(msg: dict[str, Any], side: Any = None) -> list[Any]:
    """One frame as parts to write in order: large binary values by reference (or in ``side``: a SideFile, or
    anything with its ``begin`` and ``put``, like sender_files.py's SenderFiles), the rest packed."""
    if not _holds_large(msg):
        body = msgpack.packb(msg, use_bin_type=True)
        _check_size(len(body))
        return [HEADER.pack(len(body)) + body]
    parts = _Parts()
    if side is not None:
        side.begin()
    _emit(msg, parts, side)
    out = parts.done()
    size = sum(len(p) if not isinstance(p, memoryview) else p.nbytes for p in out)
    _check_size(size)
    out.insert(0, HEADER.pack(size))
    return out


def encode(msg: dict[str, Any]) -> bytes:
    """One framed message in one piece (copies large binary values; ``write_frame`` does not)."""
    return b"".join(encode_parts(msg))


def write_frame(fd: int, msg: dict[str, Any], side: SideFile | None = None) -> None:
    """Blocking write of one frame to a file descriptor (its values of 1 MiB or more to ``side`` if given)."""
    write_all(fd, encode_parts(msg, side))


def write_all(fd: int, parts: list[Any]) -> None:
    """``os.writev`` until every part is written (a pipe takes what fits each time)."""
    views = deque(memoryview(p).cast("B") for p in parts)
    while views:
        n = os.writev(fd, list(views)[:_IOV_MAX])
        while views and n >= views[0].nbytes:
            n -= views.popleft().nbytes
        if n:
            views[0] = views[0][n:]


def _check_size(size: int) -> None:
    if size > MAX_FRAME:
        raise ProtocolError(f"frame too large ({size} bytes; at most 4 GiB)")


def _is_large_binary(v: Any) -> bool:
    return isinstance(v, (bytes, bytearray, memoryview, Opaque)) and _nbytes(v) >= BY_REFERENCE


def _nbytes(v: Any) -> int:
    if isinstance(v, Opaque):
        return v.view.nbytes
    return v.nbytes if isinstance(v, memoryview) else len(v)


def _holds_large(v: Any, depth: int = 0) -> bool:
    if _is_large_binary(v):
        return True
    if depth > 8:  # frames hold their large values near the top (envelopes, deps, gathered results)
        return False
    if isinstance(v, dict):
        return any(_holds_large(x, depth + 1) for x in v.values())
    if isinstance(v, (list, tuple)):
        return any(_holds_large(x, depth + 1) for x in v)
    return False


def _emit(v: Any, parts: "_Parts", side: Any) -> None:
    """MessagePack of ``v`` exactly as ``msgpack.packb`` writes it, large binaries as parts of their own."""
    if side is not None and _is_large_binary(v) and _nbytes(v) >= SIDE_MIN:
        parts.small(msgpack.packb(side.put(v)))
    elif _is_large_binary(v):
        n = _nbytes(v)
        parts.small(b"\xc4" + bytes([n]) if n < 0x100 else b"\xc5" + _U16.pack(n) if n < 0x10000 else b"\xc6" + _U32.pack(n))
        parts.large(v.view if isinstance(v, Opaque) else v)
    elif not _holds_large(v):
        parts.small(msgpack.packb(v, use_bin_type=True))
    elif isinstance(v, dict):
        parts.small(_container_header(len(v), 0x80, 0xDE))
        for k, x in v.items():
            parts.small(msgpack.packb(k, use_bin_type=True))
            _emit(x, parts, side)
    else:
        parts.small(_container_header(len(v), 0x90, 0xDC))
        for x in v:
            _emit(x, parts, side)


def _container_header(n: int, fix: int, wide: int) -> bytes:
    if n < 16:
        return bytes([fix + n])
    if n < 0x10000:
        return bytes([wide]) + _U16.pack(n)
    return bytes([wide + 1]) + _U32.pack(n)


class _Parts:
    """Small pieces joined into one part between large ones: a frame is a few parts."""

    def __init__(self) -> None:
        self.out: list[Any] = []
        self.pending: list[bytes] = []

    def small(self, b: bytes) -> None:
        self.pending.append(b)

    def large(self, b: Any) -> None:
        self._flush()
        self.out.append(b)

    def done(self) -> list[Any]:
        self._flush()
        return self.out

    def _flush(self) -> None:
        if self.pending:
            self.out.append(b"".join(self.pending))
            self.pending = []


def widen_pipe(fd: int) -> None:
    """Let a channel hold PIPE_SIZE bytes: a large frame then crosses in ~100 turns between writer and reader instead
    of ~1,600, each a wait for the other process to be scheduled (long on a busy machine). A pipe (Linux; capped by
    /proc/sys/fs/pipe-max-size) or the sending end of a socket (the flow process's channels are socket pairs; capped by
    net.core.wmem_max)."""
    try:
        if stat.S_ISSOCK(os.fstat(fd).st_mode):
            with socket.socket(fileno=os.dup(fd)) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_SIZE)
        else:
            fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
    except OSError:
        pass  # not Linux, or above the system's limit: the default size still works
