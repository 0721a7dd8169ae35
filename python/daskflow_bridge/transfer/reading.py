"""Reading frames (framing.py describes them): one buffer per frame that spans reads, and the largest binary value
of a large frame returned as that very buffer, trimmed to it, instead of a copy."""

from __future__ import annotations

import os
import struct
from collections import deque
from typing import Any

import msgpack

from .framing import HEADER, LARGE, READ_SIZE, ChannelClosed, ProtocolError, SideFile

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


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
