"""A run's code folder on a worker host: ``<cache>/views/<run>`` is made of hard links to its packs' files (packs.py).
Packs shipped later in the run are laid into the same folder, so a module shared by old and new tasks stays at one
path — one module instance in a sidecar. The run's workers on a host share that folder; the last one to leave removes
it.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
from typing import Any

from .packs import ShippingError, cache_dir, unpack_once

CODE_ROOT_ENV = "DASKFLOW_CODE_ROOT"  # set in the sidecars' environment (src/dask/shipping/module-map.ts)


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
