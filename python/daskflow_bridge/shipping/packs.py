"""The host's cache of shipped packs: each pack is unpacked once per host into ``<cache>/packs/<hash>`` (under a
lock, into a temporary folder renamed into place, so concurrent workers on one host and a worker killed mid-way never
leave a half pack). ``<cache>`` is ``$DASKFLOW_CODE_CACHE``, else ``$XDG_CACHE_HOME/daskflow/code``, else
``~/.cache/daskflow/code``.

Every change to a flow's code makes a new pack, so packs not used for ``$DASKFLOW_CODE_CACHE_DAYS`` days (7) are
removed when a new one is unpacked (a pack's folder is touched each time a run uses it).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import zlib

import msgpack

PACK_FORMAT = "daskflow-pack/1"


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
