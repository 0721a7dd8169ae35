"""Framing and message names shared by both daskflow channels (Python mirror of src/dask/protocol.ts).

Each frame is a 4-byte big-endian unsigned length followed by that many bytes of one MessagePack map with an
``op`` string. Binary values travel as MessagePack ``bin`` (``bytes`` here; the largest one of a frame of 1 MiB or
more arrives as a ``bytearray``, see framing.py). See docs/bridge-protocol.md.
"""

from __future__ import annotations

import os
from typing import Any

# ---- flow process -> bridge (requests)
OP_START = "start"
OP_SUBMIT = "submit"
OP_GATHER = "gather"
OP_RELEASE = "release"
OP_CANCEL = "cancel"
OP_WORKERS = "workers"
OP_TASK_STATES = "task-states"
OP_RESULTS = "results"  # persisted results: probe, lookup, read (results/store.py)
OP_CLOSE = "close"
OP_CALL = "call"  # DaskClient: submit a Python callable by import path, held under the client's key
OP_SCATTER = "scatter"  # DaskClient: data onto the cluster, held under the client's key
OP_CLIENT_GATHER = "client-gather"  # DaskClient: values of held futures
OP_CLIENT_RELEASE = "client-release"  # DaskClient: drop held futures
OP_CLIENT_CANCEL = "client-cancel"  # DaskClient: cancel held futures
OP_SCHEDULER_INFO = "scheduler-info"
OP_WAIT_FOR_WORKERS = "wait-for-workers"
OP_UNPUBLISH = "unpublish"  # DaskClient: drop the datasets its persisted collections were published under
OP_RESTORE = "restore"  # a released result put back on the cluster under a new key (src/dask/results-held.ts)
OP_SHIP = "ship"  # more shipped code for the run's workers (a pack; src/dask/shipping/)
OP_SIDE_FILES = "side-files"  # the flow process's answer to OP_SIDE_PROBE: whether it can read the bridge's files
OP_RELEASE_FILES = "release-files"  # the flow process read these value files (sender_files.py): close them
OP_COLLECTION = "collection"  # a TS collection plan (Bag, DataFrame): an action run by the builder of its kind
OP_LIMIT_ACQUIRE = "limit-acquire"  # concurrency(): leases of limits for a section of code (limits/slots.py)
OP_LIMIT_RELEASE = "limit-release"
OP_COLLECTION_CANCEL = "collection-cancel"  # stop the collection requests made under these keys (a compute's future)

# ---- bridge -> flow process
OP_REPLY = "reply"
OP_DONE = "done"
OP_EVENT = "event"
OP_LOG = "log"
OP_SIDE_PROBE = "side-probe"  # first message when the flow process asked for value files (sender_files.py)

# ---- worker (run_task) <-> Node sidecar
OP_READY = "ready"
OP_RUN = "run"
OP_TIMEOUT_ENVELOPE = "timeout-envelope"
OP_CRASH_ENVELOPE = "crash-envelope"
OP_SECEDE = "secede"  # sidecar -> worker: the task submits tasks of its own and will wait for them
OP_BRIDGE = "bridge"  # both ways: a bridge request (sidecar -> worker) or message (worker -> sidecar) of the
#                      task's client session, served by the worker (worker/client_service.py) instead of a bridge process
OP_BAG = "bag"  # worker -> sidecar: run one Bag partition program; answered by OP_BAG_DONE
OP_BAG_DONE = "bag-done"
# the sidecar also sends OP_EVENT and OP_DONE

STATUS_FINISHED = "finished"
STATUS_ERROR = "error"
STATUS_CANCELLED = "cancelled"

# Framing (and its errors) lives in framing.py and reading.py; these names are the protocol's public surface.
from .framing import (  # noqa: E402,F401
    HEADER,
    MAX_FRAME,
    ChannelClosed,
    ProtocolError,
    SIDE_FILES_ENV,
    SideFile,
    encode,
    encode_parts,
    widen_pipe,
    write_all,
    write_frame,
)
from .reading import FrameDecoder, FrameReader, decode_body  # noqa: E402,F401


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
