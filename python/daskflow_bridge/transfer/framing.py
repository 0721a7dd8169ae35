"""Frames of both daskflow channels (mirror of src/dask/framing.ts): a 4-byte big-endian length, then one
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


# ---------------------------------------------------------------------------------------------------- reading


def decode_body(body: bytes | bytearray | memoryview, side: SideFile | None = None) -> dict[str, Any]:
    """The message in one frame body (its side file references read from ``side``). A ``bytearray`` body of a large
    frame is consumed: its largest top-level binary value becomes the body itself, trimmed (no copy)."""
    hook = side.get if side is not None else msgpack.ExtType
    try:
        if isinstance(body, bytearray) and len(body) >= LARGE:
            msg = _decode_owning(body, hook)
        else:
            msg = _unpack(body, hook)
    finally:
        if side is not None:
            side.clear()
    if not isinstance(msg, dict) or not isinstance(msg.get("op"), str):
        raise ProtocolError("frame is not a msgpack map with an 'op' string")
    return msg


def _unpack(b: Any, hook: Any = msgpack.ExtType) -> Any:
    return msgpack.unpackb(b, raw=False, strict_map_key=False, ext_hook=hook)


def _decode_owning(body: bytearray, hook: Any) -> Any:
    with memoryview(body) as mv:
        first = body[0]
        if 0x80 <= first <= 0x8F:
            n, pos = first & 0x0F, 1
        elif first == 0xDE:
            n, pos = _U16.unpack_from(body, 1)[0], 3
        elif first == 0xDF:
            n, pos = _U32.unpack_from(body, 1)[0], 5
        else:
            return _unpack(mv, hook)  # not a map: decode_body reports it
        entries = []  # (key, value start, value end)
        for _ in range(n):
            key_end = _skip(body, pos)
            value_end = _skip(body, key_end)
            entries.append((_unpack(mv[pos:key_end], hook), key_end, value_end))
            pos = value_end
        if pos != len(body):
            raise ProtocolError(f"frame has {len(body) - pos} extra bytes after its message")
        big, big_start = None, 0
        for i, (_, start, end) in enumerate(entries):
            head = _BIN_HEADERS.get(body[start])
            if head is not None and end - start - head >= LARGE and (big is None or end - start > entries[big][2] - entries[big][1]):
                big, big_start = i, start + head
        msg = {k: _unpack(mv[start:end], hook) for i, (k, start, end) in enumerate(entries) if i != big}
    if big is None:
        return msg
    key, _, end = entries[big]
    del body[end:]
    del body[:big_start]  # O(1) in CPython: the bytearray's start moves
    msg[key] = body
    return dict((k, msg[k]) for k, _, _ in entries)  # the frame's key order


_BIN_HEADERS = {0xC4: 2, 0xC5: 3, 0xC6: 5}
# type byte -> (size of the fixed part, offset of its length field, length field size) for the variable-length types
_VAR = {0xC4: (2, 1, 1), 0xC5: (3, 1, 2), 0xC6: (5, 1, 4), 0xD9: (2, 1, 1), 0xDA: (3, 1, 2), 0xDB: (5, 1, 4),
        0xC7: (3, 1, 1), 0xC8: (4, 1, 2), 0xC9: (6, 1, 4)}
_FIXED = {0xC0: 1, 0xC2: 1, 0xC3: 1, 0xCA: 5, 0xCB: 9, 0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9, 0xD0: 2, 0xD1: 3,
          0xD2: 5, 0xD3: 9, 0xD4: 3, 0xD5: 4, 0xD6: 6, 0xD7: 10, 0xD8: 18}


def _skip(b: bytearray, pos: int) -> int:
    """Where the MessagePack value starting at ``pos`` ends."""
    todo = 1
    size = len(b)
    while todo:
        todo -= 1
        if pos >= size:
            raise ProtocolError("truncated MessagePack value in frame")
        t = b[pos]
        if t <= 0x7F or t >= 0xE0:
            pos += 1
        elif t <= 0x8F:
            todo += 2 * (t & 0x0F)
            pos += 1
        elif t <= 0x9F:
            todo += t & 0x0F
            pos += 1
        elif t <= 0xBF:
            pos += 1 + (t & 0x1F)
        elif t in _FIXED:
            pos += _FIXED[t]
        elif t in _VAR:
            fixed, at, width = _VAR[t]
            n = b[pos + at] if width == 1 else (_U16 if width == 2 else _U32).unpack_from(b, pos + at)[0]
            pos += fixed + n
        elif t in (0xDC, 0xDE):
            todo += _U16.unpack_from(b, pos + 1)[0] * (2 if t == 0xDE else 1)
            pos += 3
        elif t in (0xDD, 0xDF):
            todo += _U32.unpack_from(b, pos + 1)[0] * (2 if t == 0xDF else 1)
            pos += 5
        else:
            raise ProtocolError(f"invalid MessagePack type byte 0x{t:02x} in frame")
    if pos > size:
        raise ProtocolError("truncated MessagePack value in frame")
    return pos


class FrameDecoder:
    """Incremental decoder: feed bytes (or let it read from a file descriptor), get complete messages."""

    def __init__(self, side: SideFile | None = None) -> None:
        self._side = side
        self._head = bytearray()  # a length header split across reads
        self._body: bytearray | None = None  # the body of a frame that spans reads, allocated at its full size
        self._filled = 0

    @property
    def pending(self) -> int:
        """Bytes received that are not yet part of a whole frame."""
        return len(self._head) + self._filled

    def feed(self, data: bytes | bytearray | memoryview) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        with memoryview(data) as mv:
            pos, n = 0, mv.nbytes
            while pos < n:
                if self._body is not None:
                    take = min(len(self._body) - self._filled, n - pos)
                    self._body[self._filled:self._filled + take] = mv[pos:pos + take]
                    self._filled += take
                    pos += take
                    self._complete(out)
                elif self._head or n - pos < 4:
                    take = min(4 - len(self._head), n - pos)
                    self._head += mv[pos:pos + take]
                    pos += take
                    if len(self._head) == 4:
                        (size,) = HEADER.unpack(self._head)
                        self._head.clear()
                        self._start(size, out)
                else:
                    (size,) = HEADER.unpack_from(mv, pos)
                    pos += 4
                    if n - pos >= size:  # the whole frame is here: decode it in place
                        out.append(decode_body(mv[pos:pos + size], self._side))
                        pos += size
                    else:
                        self._start(size, out)
        return out

    def read_from(self, fd: int) -> list[dict[str, Any]]:
        """One read from ``fd``, straight into the body of the frame being filled when there is one."""
        if self._body is None:
            chunk = os.read(fd, READ_SIZE)
            if not chunk:
                raise ChannelClosed("channel closed by peer")
            return self.feed(chunk)
        with memoryview(self._body) as mv, mv[self._filled:] as rest:
            got = os.readv(fd, [rest])
        if not got:
            raise ChannelClosed("channel closed by peer")
        self._filled += got
        out: list[dict[str, Any]] = []
        self._complete(out)
        return out

    def _start(self, size: int, out: list) -> None:
        self._body = bytearray(size)
        self._filled = 0
        self._complete(out)

    def _complete(self, out: list) -> None:
        if self._body is not None and self._filled == len(self._body):
            body, self._body, self._filled = self._body, None, 0
            out.append(decode_body(body, self._side))


class FrameReader:
    """Blocking reader of frames from a file descriptor, with optional deadlines."""

    def __init__(self, fd: int, side: SideFile | None = None) -> None:
        self.fd = fd
        self._decoder = FrameDecoder(side)
        self._ready: deque[dict[str, Any]] = deque()

    def read(self, deadline: float | None = None) -> dict[str, Any] | None:
        """Next message; ``None`` if ``deadline`` (a ``time.monotonic()`` value) passed first.

        Raises ChannelClosed on EOF.
        """
        import select
        import time

        while not self._ready:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                r, _, _ = select.select([self.fd], [], [], remaining)
                if not r:
                    return None
            self._ready.extend(self._decoder.read_from(self.fd))
        return self._ready.popleft()
