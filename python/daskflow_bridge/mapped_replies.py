"""A sidecar's results kept where it wrote them: the worker maps those pages of the reply side file (framing.py) as
the value Dask holds, instead of copying them out into new memory.

Why: a 100 MiB task result used to cost the worker a fresh 100 MiB ``bytes`` and a copy from the side file, whose
pages were then freed. Fresh memory is what costs most on a VM (every new page faults, often into the host). Mapped,
the side file's pages, already written by the sidecar, are the result.

So that a kept value is never written over, the sidecar (told ``keep`` in DASKFLOW_SIDE_FILES, and saying so in its
``ready``) writes the reply file append-only, each value at a 64 KiB boundary, and marks the values of ``done`` and ``bag-done`` replies with ext
type 4 (``KEPT_EXT``). A value of any other reply (ext type 1) is copied out as before, and each value's pages are
freed on their own (a hole punched in the file) once read or, for a kept one, once Dask lets it go: the file grows
in offsets only, never in memory held. The mappings are made with ctypes: Python's ``mmap`` holds a file descriptor
per mapping (Python < 3.13), and a worker can hold thousands of results.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct
import weakref
from typing import Any

from .framing import SIDE_EXT, SideFile
from .large_value import LargeValue

KEPT_EXT = 4  # MessagePack ext type of a reply value the worker keeps in place (offset and length, big-endian u64)
_REF = struct.Struct(">QQ")
_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02
_MAP_FAILED = ctypes.c_void_p(-1).value

_libc = ctypes.CDLL(None, use_errno=True)
_mmap = _libc.mmap
_mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64]
_mmap.restype = ctypes.c_void_p
_munmap = _libc.munmap
_munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_munmap.restype = ctypes.c_int
_fallocate = _libc.fallocate
_fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
_fallocate.restype = ctypes.c_int


class _File:
    """The reply file for punching holes in it, open for as long as a value kept in it lives (the sidecar, and the
    fd it was given, may be gone by then; a closed fd's number could name another file)."""

    def __init__(self, fd: int) -> None:
        self.fd = os.dup(fd)
        weakref.finalize(self, os.close, self.fd)

    def free(self, offset: int, length: int) -> None:
        _fallocate(self.fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE, offset, length)


def _unmap(address: int, length: int, file: _File, offset: int) -> None:
    _munmap(address, length)
    file.free(offset, _pages(length))


class MappedReplies(SideFile):
    """The reply side file of a sidecar told ``keep``; a plain SideFile until the sidecar's ``ready`` says it keeps
    (``keeping``): an older one writes each reply's values from offset 0, one after another."""

    def __init__(self, fd: int) -> None:
        super().__init__(fd)
        self._file = _File(fd)
        self.keeping = False

    def get(self, code: int, payload: bytes) -> Any:
        if not self.keeping or code not in (SIDE_EXT, KEPT_EXT):
            return super().get(code, payload)
        offset, n = _REF.unpack(payload)
        if code == KEPT_EXT and offset % mmap.ALLOCATIONGRANULARITY == 0:
            address = _mmap(None, n, mmap.PROT_READ, mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0), self.fd, offset)
            if address not in (None, _MAP_FAILED):
                pages = (ctypes.c_ubyte * n).from_address(address)
                weakref.finalize(pages, _unmap, address, n, self._file, offset)
                return LargeValue(memoryview(pages).toreadonly())
        data = super().get(SIDE_EXT, payload)  # a copy (not to keep, or it could not be mapped)
        self._file.free(offset, _pages(n))  # the rest of its last page is unused: the next value is 64 KiB on
        return data

    def clear(self) -> None:
        if self.keeping:
            self.used = False  # each value's pages were freed on their own
        else:
            super().clear()


def _pages(n: int) -> int:
    return -(-n // mmap.PAGESIZE) * mmap.PAGESIZE
