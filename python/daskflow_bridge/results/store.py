"""Result records through fsspec (local paths, shared file systems, s3://, gs://, az://): one object per record,
``<key>.dfr``: b"DFR1", a 4-byte big-endian length, the metadata as JSON (key, task, created, expires, encoding
version, size, sha256), then the task's result envelope in daskflow's own encoding (src/results/storage.ts reads and
writes the same). A worker writes the result it computed, off the task's thread: the task's result goes to Dask at
once, the write follows."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable

ENCODING_VERSION = 1
MAGIC = b"DFR1"
SUFFIX = ".dfr"
logger = logging.getLogger("daskflow.results")
_writer: ThreadPoolExecutor | None = None


@functools.lru_cache(maxsize=64)
def _fs(location: str):
    import fsspec

    fs, root = fsspec.core.url_to_fs(location)
    return fs, root.rstrip("/")


_made: set[str] = set()


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _record_parts(spec: dict, data: Any) -> tuple[bytes, memoryview]:
    """A record's head (magic, length, metadata) and its value bytes (not copied)."""
    view = memoryview(data.view if hasattr(data, "view") else data).cast("B")
    meta = {
        "key": spec["key"], "task": spec.get("task"), "created": _iso(time.time()), "expires": _iso(spec.get("expires")),
        "encoding": ENCODING_VERSION, "size": view.nbytes, "sha256": hashlib.sha256(view).hexdigest(),
    }
    header = json.dumps(meta).encode()
    return MAGIC + len(header).to_bytes(4, "big") + header, view


def encode_record(spec: dict, data: Any) -> bytes:
    head, view = _record_parts(spec, data)
    return b"".join((head, view))


def write_record(spec: dict, data: Any) -> None:
    fs, root = _fs(spec["location"])
    path = f"{root}/{spec['key']}{SUFFIX}"
    if _is_object_store(spec["location"]):
        fs.pipe_file(path, encode_record(spec, data))
        return
    if root not in _made:
        os.makedirs(root, exist_ok=True)
        _made.add(root)
    head, view = _record_parts(spec, data)
    with open(path, "wb") as f:  # no fsspec per-call overhead; a torn record fails its checksum (a warned miss)
        f.write(head)
        f.write(view)


def _is_object_store(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


_reported: set[str] = set()


def _write_logged(spec: dict, data: Any, worker: str, log_event: Callable[[dict], None] | None) -> None:
    """Writes one record; a failure is a later miss, reported once per location on this worker (a worker that joined
    after the run's probe is checked here, at its first write) in the flow's log as well as the worker's."""
    try:
        write_record(spec, data)
    except Exception as exc:  # noqa: BLE001 - reported, never raised into the task
        location = spec.get("location")
        logger.warning("daskflow: worker %s could not write the result %s to %r: %s", worker, spec.get("key"), location, exc)
        if log_event is not None and location not in _reported:
            _reported.add(location)
            log_event({
                "kind": "worker-log", "level": "warning", "worker": worker,
                "message": f"cannot write task results to result storage {location!r} ({type(exc).__name__}: {exc}); "
                           "they are not persisted. Give resultStorage a location every worker can write.",
            })


def persist_done(meta: dict, envelope: Any, items: list | None, worker: str = "", log_event: Callable[[dict], None] | None = None) -> None:
    """After a task's `done`: hand the writes of its result (or its batch's items) to this worker's writer thread, so
    the result goes to Dask at once (a write in the task's thread measured no better here: the bench machine is
    small and shared). The buffers are not copied: Dask holds them unchanged as the task's result."""
    global _writer
    jobs = []
    if meta.get("persist") and envelope is not None:
        jobs.append((meta["persist"], envelope))
    for spec, data in zip(meta.get("persist_items") or [], items or []):
        if spec and data is not None:
            jobs.append((spec, data))
    if not jobs:
        return
    if _writer is None:
        _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="daskflow-results")
    for spec, data in jobs:
        _writer.submit(_write_logged, spec, data, worker, log_event)


def probe(location: str) -> str | None:
    """Run on each worker at a run's start: None when it can write ``location``, else why not."""
    try:
        fs, root = _fs(location)
        if not _is_object_store(location):
            fs.makedirs(root, exist_ok=True)
        path = f"{root}/.probe-{uuid.uuid4().hex}"
        fs.pipe_file(path, b"ok")
        fs.rm_file(path)
        return None
    except Exception as exc:  # noqa: BLE001 - reported to the flow process, naming this worker
        return f"{type(exc).__name__}: {exc}"


def _problem(record: bytes | None) -> str | None:
    """'ok', None for no record (or an expired one), else why the record cannot be used."""
    if record is None:
        return None
    if len(record) < 8 or record[:4] != MAGIC:
        return "it is not a daskflow result record"
    end = 8 + int.from_bytes(record[4:8], "big")
    try:
        meta = json.loads(record[8:end])
    except ValueError as exc:
        return f"its metadata cannot be read ({exc})"
    data = record[end:]
    if meta.get("encoding") != ENCODING_VERSION:
        return f"it has encoding version {meta.get('encoding')}, this daskflow reads {ENCODING_VERSION}"
    expires = meta.get("expires")
    if expires and datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp() <= time.time():
        return None
    if len(data) != meta.get("size") or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        return "its checksum does not match its bytes (corrupted or partly written)"
    return "ok"


def lookup(location: str, keys: list[str]) -> dict[str, str | None]:
    """Many keys in one batch (fsspec fetches the files concurrently where the store allows): key -> 'ok' | None |
    problem."""
    fs, root = _fs(location)
    got = fs.cat([f"{root}/{k}{SUFFIX}" for k in keys], on_error="omit") if keys else {}
    return {k: _problem(_get(got, fs, f"{root}/{k}{SUFFIX}")) for k in keys}


def _get(got: dict, fs, path: str) -> bytes | None:
    if path in got:
        return got[path]
    return got.get(fs._strip_protocol(path))


def read(location: str, key: str) -> bytes:
    """The value bytes of a record, verified."""
    fs, root = _fs(location)
    record = fs.cat_file(f"{root}/{key}{SUFFIX}")
    problem = _problem(record)
    if problem != "ok":
        raise RuntimeError(f"the stored result {key} at {location!r} cannot be used: {problem or 'it expired'}")
    return record[8 + int.from_bytes(record[4:8], "big"):]


def put_text(location: str, path: str, text: str) -> None:
    fs, root = _fs(location)
    if not _is_object_store(location):
        fs.makedirs(f"{root}/{path.rsplit('/', 1)[0]}" if "/" in path else root, exist_ok=True)
    fs.pipe_file(f"{root}/{path}", text.encode())


def get_text(location: str, path: str) -> str | None:
    fs, root = _fs(location)
    try:
        return fs.cat_file(f"{root}/{path}").decode()
    except FileNotFoundError:
        return None


async def handle(client, msg: dict) -> Any:
    """The bridge's `results` op (session.py)."""
    import asyncio

    action, location = msg.get("action"), msg.get("location")
    if action == "probe":
        return await client.run(probe, location)
    if action == "lookup":
        return await asyncio.to_thread(lookup, location, list(msg.get("keys") or []))
    if action == "read":
        return await asyncio.to_thread(read, location, msg.get("key"))
    if action == "put":
        return await asyncio.to_thread(put_text, location, msg.get("path"), msg.get("text"))
    if action == "get":
        return await asyncio.to_thread(get_text, location, msg.get("path"))
    raise ValueError(f"unknown results action {action!r}")
