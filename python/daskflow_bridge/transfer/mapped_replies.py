"""A sidecar's results kept where it wrote them: the worker maps those pages of the reply side file (framing.py) as
the value Dask holds, instead of copying them out into new memory.

Why: a 100 MiB task result used to cost the worker a fresh 100 MiB ``bytes`` and a copy from the side file, whose
pages were then freed. Fresh memory is what costs most on a VM (every new page faults, often into the host). Mapped,
the side file's pages, already written by the sidecar, are the result.

So that a kept value is never written over, the sidecar (told ``keep`` in DASKFLOW_SIDE_FILES, and saying so in its
``ready``) writes the reply file append-only, each value at a 64 KiB boundary, and marks the values of ``done`` and ``bag-done`` replies with ext
type 4 (``KEPT_EXT``). A value of any other reply (ext type 1) is copied out as before. A value's range is released
once read or, for a kept one, once Dask lets it go; released ranges are offered back to the sidecar to write into
(``_Ranges``: warm pages) within a budget and a time, and otherwise freed (a hole punched in the file): the file
grows in offsets, not in memory held. The mappings are made with ctypes: Python's ``mmap`` holds a file descriptor
per mapping (Python < 3.13), and a worker can hold thousands of results.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct
import threading
import time
import weakref
from typing import Any

from .framing import SIDE_EXT, SideFile
from .large_value import LargeValue

KEPT_EXT = 4  # MessagePack ext type of a reply value the worker keeps in place (offset and length, big-endian u64)
_REF = struct.Struct(">QQ")
_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02
_MAP_FAILED = ctypes.c_void_p(-1).value



def _libc_functions() -> tuple[Any, Any, Any]:
    """mmap, munmap and fallocate from the C library (Linux; only called where side files exist)."""
    libc = ctypes.CDLL(None, use_errno=True)
    mmap_, munmap, fallocate = libc.mmap, libc.munmap, libc.fallocate
    mmap_.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64]
    mmap_.restype = ctypes.c_void_p
    munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    munmap.restype = ctypes.c_int
    fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    fallocate.restype = ctypes.c_int
    return mmap_, munmap, fallocate


try:
    _mmap, _munmap, _fallocate = _libc_functions()
except (OSError, AttributeError):  # not Linux (no fallocate): there are no side files to map either
    _mmap = _munmap = _fallocate = None


class _File:
    """The reply file for punching holes in it, open for as long as a value kept in it lives (the sidecar, and the
    fd it was given, may be gone by then; a closed fd's number could name another file)."""

    def __init__(self, fd: int) -> None:
        self.fd = os.dup(fd)
        weakref.finalize(self, os.close, self.fd)

    def free(self, offset: int, length: int) -> None:
        _fallocate(self.fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE, offset, length)


class _Ranges:
    """Ranges of the reply file whose values are gone, kept (pages and all) for the sidecar to write new values
    into: pages that were written once cost a plain copy, fresh ones a fault each (on a VM often into the host: the
    first write of 100 MiB took 45 ms on warm pages here and up to 280 ms on fresh ones). At most REUSE_BUDGET bytes,
    each for at most REUSE_IDLE seconds; the rest is freed at once."""

    def __init__(self, file: _File) -> None:
        self.file = file
        self.lock = threading.Lock()
        self.free: list[tuple[int, int, float]] = []  # offset, length, when it was freed
        self.handed: dict[int, int] = {}  # offset -> length: offered to the sidecar for the current request

    def hand_out(self) -> list[list[int]]:
        """The free ranges, for the sidecar's next request (ranges it did not use in the last one come back)."""
        with self.lock:
            now = time.monotonic()
            self.free += [(o, n, now) for o, n in self.handed.items()]
            self._trim(now)
            self.handed = _coalesced((o, n) for o, n, _ in self.free)
            self.free = []
            return [[o, n] for o, n in self.handed.items()]

    def taken(self, offset: int, n: int) -> int:
        """The length of the range the sidecar wrote a value of ``n`` bytes into at ``offset``."""
        with self.lock:
            return self.handed.pop(offset, None) or _aligned(n)

    def release(self, offset: int, length: int) -> None:
        with self.lock:
            now = time.monotonic()
            self.free.append((offset, length, now))
            self._trim(now)

    def close(self) -> None:
        with self.lock:
            for o, n, _ in self.free:
                self.file.free(o, n)
            self.free = []

    def _trim(self, now: float) -> None:
        keep, held = [], 0
        for o, n, t in sorted(self.free, key=lambda r: -r[2]):  # the most recently freed first
            if now - t <= REUSE_IDLE and held + n <= REUSE_BUDGET:
                keep.append((o, n, t))
                held += n
            else:
                self.file.free(o, n)
        self.free = keep


REUSE_BUDGET = 256 << 20  # bytes of freed ranges a sidecar's reply file keeps for reuse
REUSE_IDLE = 10.0  # seconds a freed range is kept
_ALIGN = 64 * 1024  # where the sidecar puts appended values (src/transfer/framing.ts KEEP_ALIGN)


def _coalesced(ranges) -> dict[int, int]:
    """offset -> length of ``ranges`` with neighbours joined (a value too large for either fits the two)."""
    out: dict[int, int] = {}
    end = None
    for o, n in sorted(ranges):
        if end == o:
            last = next(reversed(out))
            out[last] += n
        else:
            out[o] = n
        end = o + n
    return out


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def _unmap(address: int, n: int, ranges: "weakref.ref[_Ranges]", file: _File, offset: int, length: int) -> None:
    _munmap(address, n)
    live = ranges()
    if live is not None:
        live.release(offset, length)
    else:
        file.free(offset, length)


class MappedReplies(SideFile):
    """The reply side file of a sidecar told ``keep``; a plain SideFile until the sidecar's ``ready`` says it keeps
    (``keeping``): an older one writes each reply's values from offset 0, one after another."""

    def __init__(self, fd: int) -> None:
        super().__init__(fd)
        self._file = _File(fd)
        self._ranges = _Ranges(self._file)
        _all.add(self._ranges)
        _start_trimmer()
        weakref.finalize(self, self._ranges.close)
        self.keeping = False

    @staticmethod
    def available() -> bool:
        """Whether this platform can map and free ranges of the file (Linux)."""
        return _mmap is not None

    def hand_out(self) -> list[list[int]]:
        """Ranges the sidecar may write its next request's reply values into (``reuse`` of ``run`` and ``bag``)."""
        return self._ranges.hand_out() if self.keeping else []

    def get(self, code: int, payload: bytes) -> Any:
        if not self.keeping or code not in (SIDE_EXT, KEPT_EXT):
            return super().get(code, payload)
        offset, n = _REF.unpack(payload)
        length = self._ranges.taken(offset, n)
        if code == KEPT_EXT and offset % mmap.ALLOCATIONGRANULARITY == 0:
            address = _mmap(None, n, mmap.PROT_READ, mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0), self.fd, offset)
            if address not in (None, _MAP_FAILED):
                pages = (ctypes.c_ubyte * n).from_address(address)
                weakref.finalize(pages, _unmap, address, n, weakref.ref(self._ranges), self._file, offset, length)
                return LargeValue(memoryview(pages).toreadonly())
        data = super().get(SIDE_EXT, payload)  # a copy (not to keep, or it could not be mapped)
        self._ranges.release(offset, length)
        return data

    def clear(self) -> None:
        if self.keeping:
            self.used = False  # each value's range is released on its own
        else:
            super().clear()


_all: "weakref.WeakSet[_Ranges]" = weakref.WeakSet()
_trimmer_lock = threading.Lock()
_trimmer: threading.Thread | None = None


def _start_trimmer() -> None:
    """One thread per process frees ranges left unused for REUSE_IDLE seconds by sidecars that went quiet."""
    global _trimmer
    with _trimmer_lock:
        if _trimmer is None:
            _trimmer = threading.Thread(target=_trim_all, name="daskflow-reply-ranges", daemon=True)
            _trimmer.start()


def _trim_all() -> None:
    while True:
        time.sleep(REUSE_IDLE / 2)
        for ranges in list(_all):
            with ranges.lock:
                ranges._trim(time.monotonic())
