"""Large values a worker hands its Node sidecar in place: the sidecar reads them straight out of the worker's memory
(``/proc/<worker pid>/mem``) instead of the worker first copying them into the request side file (framing.py).

Why: on the way into a downstream task a 100 MiB upstream result was written into the side file (100 MiB of new
shared memory) and then read out of it by the sidecar (100 MiB more): two fresh allocations and two copies where one
of each will do, and fresh memory is what costs most on a VM (each new page faults, often into the host).

A reference is MessagePack ext type 3: the value's address and length, two big-endian u64. The value must stay alive
and unchanged until the sidecar has decoded the frame: only ``run`` and ``bag`` requests use references (the worker
holds their inputs until the sidecar answers), and ``begin`` keeps the last frame's values besides.

Reading another process's memory needs ptrace access to it (same user, and under Yama's ``ptrace_scope`` 1 or more
the worker is not readable by its child): the sidecar first reads a token at a known address (``MEMORY_ENV``) and
says in its ``ready`` whether it could; if not, the side file serves as before.
"""

from __future__ import annotations

import ctypes
import os
import struct
from typing import Any

import msgpack

from .framing import Opaque

MEMORY_EXT = 3  # MessagePack ext type of a reference into the worker's memory
MEMORY_ENV = "DASKFLOW_WORKER_MEMORY"  # "pid:address:token-hex": what a new sidecar checks it can read
_REF = struct.Struct(">QQ")


class _PyBuffer(ctypes.Structure):  # CPython's Py_buffer (stable ABI layout since 3.3)
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
        return (view.buf or 0, view.len)
    finally:
        _release_buffer(ctypes.byref(view))


class WorkerMemory:
    """The ``side`` of a request frame (framing.encode_parts) that refers to large values where they are; a value
    that is not one contiguous buffer goes to ``fallback`` (the request side file)."""

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback
        self._held: list[Any] = []
        self._token = os.urandom(16)  # kept for as long as a sidecar may check it
        where = address_of(self._token)
        self.env_value = f"{os.getpid()}:{where[0] if where else 0}:{self._token.hex()}"

    def begin(self) -> None:
        self._held = []  # the previous frame's values: decoded by now (its reply came before this request)
        if self.fallback is not None:
            self.fallback.begin()

    def put(self, data: Any) -> msgpack.ExtType:
        where = address_of(data)
        if where is None or not where[0]:
            return self.fallback.put(data)
        self._held.append(data)
        return msgpack.ExtType(MEMORY_EXT, _REF.pack(*where))
