"""Shipped code on a worker host (src/dask/shipping/ builds it; docs/code-shipping.md).

Each pack is unpacked once per host into ``<cache>/packs/<hash>`` (under a lock, into a temporary folder renamed
into place, so concurrent workers on one host and a worker killed mid-way never leave a half pack). A run's code
folder ``<cache>/views/<run>`` is made of hard links to its packs' files: packs shipped later in the run are laid
into the same folder, so a module shared by old and new tasks stays at one path — one module instance in a sidecar.
The run's workers on a host share that folder; the last one to leave removes it. ``<cache>`` is
``$DASKFLOW_CODE_CACHE``, else ``$XDG_CACHE_HOME/daskflow/code``, else ``~/.cache/daskflow/code``.

Every change to a flow's code makes a new pack, so packs not used for ``$DASKFLOW_CODE_CACHE_DAYS`` days (7) are
removed when a new one is unpacked (a pack's folder is touched each time a run uses it).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import socket
import tempfile
import zlib
from typing import Any

import msgpack
from distributed.diagnostics.plugin import WorkerPlugin

PACK_FORMAT = "daskflow-pack/1"
CODE_ROOT_ENV = "DASKFLOW_CODE_ROOT"  # set in the sidecars' environment (src/dask/shipping/module-map.ts)


class ShippingError(RuntimeError):
    """A pack that cannot be laid out (corrupt, or a path outside its folder)."""


def cache_dir() -> str:
    configured = os.environ.get("DASKFLOW_CODE_CACHE")
    if configured:
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "daskflow", "code")


def _inside(root: str, rel: str) -> str:
    """``root/rel``, refusing paths that would leave ``root``."""
    if not rel or rel.startswith("/") or any(part in ("", ".", "..") for part in rel.split("/")):
        raise ShippingError(f"pack entry {rel!r} is not a plain relative path")
    return os.path.join(root, rel)


def unpack_once(cache: str, digest: str, data: bytes) -> str:
    """The folder of pack ``digest`` on this host, unpacking ``data`` there unless a worker already did."""
    packs = os.path.join(cache, "packs")
    final = os.path.join(packs, digest)
    if os.path.isdir(final):
        _touch(final)
        return final
    os.makedirs(packs, exist_ok=True)
    with open(os.path.join(packs, f".{digest}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isdir(final):  # another worker of this host did it while we waited
            return final
        body = zlib.decompress(data)
        if hashlib.sha256(body).hexdigest()[: len(digest)] != digest:
            raise ShippingError(f"pack {digest} arrived corrupt (its content does not match its hash)")
        pack = msgpack.unpackb(body, raw=False)
        if pack.get("format") != PACK_FORMAT:
            raise ShippingError(f"pack {digest} has format {pack.get('format')!r}, this daskflow_bridge reads {PACK_FORMAT!r}")
        tmp = tempfile.mkdtemp(prefix=f".{digest}-", dir=packs)
        try:
            os.chmod(tmp, 0o755)
            for rel, mode, content in pack["files"]:
                dst = _inside(tmp, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with open(dst, "wb") as f:
                    f.write(content)
                os.chmod(dst, mode & 0o777)
            for rel, target in pack["links"]:
                dst = _inside(tmp, rel)
                if os.path.isabs(target) or not os.path.normpath(os.path.join(os.path.dirname(dst), target)).startswith(tmp + os.sep):
                    raise ShippingError(f"pack link {rel!r} points outside the pack ({target!r})")
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                os.symlink(target, dst)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    prune_packs(cache, keep=digest)
    return final


def _touch(path: str) -> None:
    try:
        os.utime(path)
    except OSError:
        pass  # a read-only cache still serves


def max_age_seconds() -> float:
    raw = os.environ.get("DASKFLOW_CODE_CACHE_DAYS", "7")
    try:
        days = float(raw)
    except ValueError:
        raise ShippingError(f"DASKFLOW_CODE_CACHE_DAYS must be a number of days, got {raw!r}") from None
    return days * 86400


def prune_packs(cache: str, keep: str) -> list[str]:
    """Removes the packs of ``cache`` not used for max_age_seconds() (never ``keep``); returns their hashes. A pack
    whose lock another worker holds is left alone."""
    import time

    packs = os.path.join(cache, "packs")
    cutoff = time.time() - max_age_seconds()
    removed = []
    for name in os.listdir(packs):
        path = os.path.join(packs, name)
        if name.startswith(".") or name == keep or not os.path.isdir(path):
            continue
        try:
            if os.stat(path).st_mtime >= cutoff:
                continue
            with open(os.path.join(packs, f".{name}.lock"), "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                trash = tempfile.mkdtemp(prefix=f".{name}-old-", dir=packs)
                os.rename(path, os.path.join(trash, name))  # gone from its path at once; deleted below
            shutil.rmtree(trash, ignore_errors=True)
            os.unlink(os.path.join(packs, f".{name}.lock"))
            removed.append(name)
        except OSError:
            continue  # in use (locked) or removed by another worker meanwhile
    return removed


def _link(src: str, dst: str) -> None:
    try:
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        else:
            os.link(src, dst)
    except FileExistsError:
        pass  # laid by another worker of this run (same pack, same file)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        tmp = f"{dst}.{os.getpid()}.tmp"
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)


def add_to_view(view: str, pack_dir: str) -> None:
    """Hard-link every file of a pack into the run's folder (files already there stay: packs of a run are disjoint)."""
    for root, dirs, files in os.walk(pack_dir):
        rel = os.path.relpath(root, pack_dir)
        target = view if rel == "." else os.path.join(view, rel)
        os.makedirs(target, exist_ok=True)
        for name in [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            dirs.remove(name)
            files.append(name)
        for name in files:
            _link(os.path.join(root, name), os.path.join(target, name))


def view_dir(cache: str, run: str) -> str:
    if not run or "/" in run or run.startswith("."):
        raise ShippingError(f"bad run name {run!r}")
    return os.path.join(cache, "views", run)


def lay_out(run: str, packs: list[dict[str, Any]], cache: str | None = None) -> str:
    """Unpack (once per host) and lay ``packs`` into the run's folder; returns the folder."""
    cache = cache or cache_dir()
    view = view_dir(cache, run)
    os.makedirs(view, exist_ok=True)
    for pack in packs:
        add_to_view(view, unpack_once(cache, pack["hash"], pack["data"]))
    return view


def _user(owner: str) -> str:
    return f"{socket.gethostname()}--{os.getpid()}--{owner}"


def enter_view(view: str, owner: str) -> None:
    users = view + ".users"
    os.makedirs(users, exist_ok=True)
    open(os.path.join(users, _user(owner)), "w").close()


def leave_view(view: str, owner: str) -> bool:
    """Drop this user of the run's folder; remove the folder when no live user is left on this host. True if removed."""
    users = view + ".users"
    try:
        os.unlink(os.path.join(users, _user(owner)))
    except FileNotFoundError:
        pass
    host = socket.gethostname()
    try:
        names = os.listdir(users)
    except FileNotFoundError:
        names = []
    for name in names:
        parts = name.split("--", 2)
        if len(parts) == 3 and parts[0] == host and not _alive(int(parts[1]) if parts[1].isdigit() else -1):
            continue  # a worker that died without tearing down
        return False
    trash = tempfile.mkdtemp(prefix=".trash-", dir=os.path.dirname(view))
    try:
        os.rename(view, os.path.join(trash, "view"))
    except FileNotFoundError:
        pass
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(users, ignore_errors=True)
    return True


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DaskflowCodePlugin(WorkerPlugin):
    """One more pack of a run (a task module shipped after the start): laid into the run's folder on every worker,
    including workers that join later (the scheduler hands registered plugins to them)."""

    idempotent = False

    def __init__(self, run: str, pack: dict[str, Any]):
        self.run = run
        self.pack = pack

    def setup(self, worker) -> None:
        lay_out(self.run, [self.pack])
