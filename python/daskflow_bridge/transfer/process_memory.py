"""Values handed to another daskflow process in place: it reads them straight out of this process's memory
(``/proc/<pid>/mem``) instead of this process copying them into a file first — the worker's task inputs, read by its
sidecar (worker_memory.py), and the bridge's gathered results, read by the flow process (sender_files.py). One copy
and one fresh allocation, in the reader, instead of two of each; fresh memory is what costs most on a VM (every new
page faults, often into the host).

Reading another process's memory needs ptrace access to it: same user, and under Yama's ``ptrace_scope`` 1 only a
parent reads its child (so a sidecar cannot read its worker; the flow process can read its bridge), 2 or more never.
So the holder puts 16 random bytes at a known address first (``MemoryToken``) and uses references only after the
reader read them back. A value must stay alive and unchanged until the reader has read it. A reference
(``reference``) is MessagePack ext type 3: a handle (u32; 0 when the reader hands nothing back), the value's address
and its length (u64), big-endian (src/transfer/process-memory.ts reads it).
"""

from __future__ import annotations

import ctypes
import os
import struct
from typing import Any

import msgpack

from .framing import Opaque

MEMORY_EXT = 3  # MessagePack ext type of a value to read from the sender's memory
_REF = struct.Struct(">IQQ")


class _PyBuffer(ctypes.Structure):  # CPython's Py_buffer (its layout is part of the stable ABI)
    _fields_ = [
        ("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p), ("len", ctypes.c_ssize_t), ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int), ("ndim", ctypes.c_int), ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p), ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_release_buffer.restype = None
_PyBUF_SIMPLE = 0  # contiguous bytes, or an error


def address_of(data: Any) -> tuple[int, int] | None:
    """Where the bytes of ``data`` (a contiguous buffer, or an Opaque) are in this process, and how many; None when
    they are not one contiguous run."""
    obj = data.view if isinstance(data, Opaque) else data
    view = _PyBuffer()
    try:
        if _get_buffer(obj, ctypes.byref(view), _PyBUF_SIMPLE) != 0:
            return None
    except (BufferError, TypeError, ValueError):
        return None
    try:
        return (view.buf, view.len) if view.buf else None
    finally:
        _release_buffer(ctypes.byref(view))


def reference(data: Any, handle: int = 0) -> msgpack.ExtType | None:
    """The reference to ``data`` where it is, or None when it is not one contiguous buffer."""
    where = address_of(data)
    return None if where is None else msgpack.ExtType(MEMORY_EXT, _REF.pack(handle, *where))


class MemoryToken:
    """16 random bytes of this process's memory, named ``<pid>:<address>:<hex>`` (``value``) for a reader to check."""

    def __init__(self) -> None:
        self._token = os.urandom(16)  # kept for as long as a reader may check it
        where = address_of(self._token)
        self.value = f"{os.getpid()}:{where[0] if where else 0}:{self._token.hex()}"
