"""Shipped code on a worker host (daskflow_bridge/shipping/): packs unpacked once per host into a folder named by
their hash, even by workers racing each other; a run's packs laid into one folder of hard links; bad packs refused."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import zlib

import msgpack
import pytest

from daskflow_bridge import shipping


def make_pack(files: dict[str, bytes], links: dict[str, str] | None = None) -> dict:
    """A pack as src/dask/shipping/pack.ts makes it."""
    body = msgpack.packb({
        "format": shipping.PACK_FORMAT,
        "files": [[path, 0o644, data] for path, data in sorted(files.items())],
        "links": sorted([path, target] for path, target in (links or {}).items()),
    })
    return {"hash": hashlib.sha256(body).hexdigest()[:32], "data": zlib.compress(body, 1)}


def _unpack(args):
    cache, pack = args
    return shipping.unpack_once(cache, pack["hash"], pack["data"])


def test_workers_racing_on_one_host_unpack_a_pack_once_into_the_folder_named_by_its_hash(tmp_path):
    files = {f"proj/src/m{i}.ts.js": os.urandom(20_000) for i in range(50)}
    pack = make_pack(files)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        folders = pool.map(_unpack, [(str(tmp_path), pack)] * 8)
    assert set(folders) == {str(tmp_path / "packs" / pack["hash"])}
    for rel, data in files.items():
        assert (tmp_path / "packs" / pack["hash"] / rel).read_bytes() == data
    leftovers = [n for n in os.listdir(tmp_path / "packs") if n.startswith(f".{pack['hash']}-")]
    assert leftovers == [], "no half-unpacked temporary folder is left"
    # Once there, it is not unpacked again: the same files (inodes) stay.
    before = os.stat(tmp_path / "packs" / pack["hash"] / "proj/src/m0.ts.js").st_ino
    shipping.unpack_once(str(tmp_path), pack["hash"], pack["data"])
    assert os.stat(tmp_path / "packs" / pack["hash"] / "proj/src/m0.ts.js").st_ino == before


def test_a_corrupt_pack_or_a_path_outside_the_pack_is_refused_and_leaves_nothing(tmp_path):
    pack = make_pack({"a/x.js": b"1"})
    other = make_pack({"a/y.js": b"2"})
    with pytest.raises(shipping.ShippingError, match="corrupt"):
        shipping.unpack_once(str(tmp_path), pack["hash"], other["data"])
    escaping = make_pack({"../escape.js": b"x"})
    with pytest.raises(shipping.ShippingError, match="not a plain relative path"):
        shipping.unpack_once(str(tmp_path), escaping["hash"], escaping["data"])
    link_out = make_pack({"a/x.js": b"1"}, {"a/out": "../../../etc"})
    with pytest.raises(shipping.ShippingError, match="points outside the pack"):
        shipping.unpack_once(str(tmp_path), link_out["hash"], link_out["data"])
    assert [n for n in os.listdir(tmp_path / "packs") if not n.endswith(".lock")] == []


def test_a_runs_packs_share_one_folder_of_hard_links_removed_when_its_last_user_leaves(tmp_path):
    first = make_pack({"p/shared.ts.js": b"export const x = 1;", "p/a.ts.js": b"import './shared.ts.js';"},
                      {"p/node_modules/lib": "../vendor/lib"})
    later = make_pack({"p/b.ts.js": b"import './shared.ts.js';"})
    view = shipping.lay_out("run-1", [first], cache=str(tmp_path))
    shipping.lay_out("run-1", [later], cache=str(tmp_path))
    assert sorted(os.listdir(os.path.join(view, "p"))) == ["a.ts.js", "b.ts.js", "node_modules", "shared.ts.js"]
    assert os.readlink(os.path.join(view, "p", "node_modules", "lib")) == "../vendor/lib"
    packed = tmp_path / "packs" / first["hash"] / "p" / "shared.ts.js"
    assert os.stat(os.path.join(view, "p", "shared.ts.js")).st_ino == packed.stat().st_ino, "a hard link, not a copy"
    shipping.enter_view(view, "plugin-a")
    shipping.enter_view(view, "plugin-b")
    assert shipping.leave_view(view, "plugin-a") is False and os.path.isdir(view)
    assert shipping.leave_view(view, "plugin-b") is True and not os.path.exists(view)
    assert packed.exists(), "the pack itself stays cached for later runs"


def test_packs_unused_for_the_cache_age_are_removed_when_a_new_one_arrives_and_used_ones_stay(tmp_path, monkeypatch):
    import fcntl
    import time

    cache = str(tmp_path)
    old, recent, locked, new = (make_pack({"m.js": bytes([i]) * 100}) for i in range(4))
    for p in (old, recent, locked):
        shipping.unpack_once(cache, p["hash"], p["data"])
    week_ago = time.time() - 8 * 86400
    for p in (old, locked):
        os.utime(tmp_path / "packs" / p["hash"], (week_ago, week_ago))
    os.utime(tmp_path / "packs" / recent["hash"], (week_ago, week_ago))
    shipping.unpack_once(cache, recent["hash"], recent["data"])  # a run uses it again: touched
    with open(tmp_path / "packs" / f".{locked['hash']}.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another worker is laying it out right now
        shipping.unpack_once(cache, new["hash"], new["data"])
    left = sorted(n for n in os.listdir(tmp_path / "packs") if not n.startswith("."))
    assert left == sorted([recent["hash"], locked["hash"], new["hash"]])
    monkeypatch.setenv("DASKFLOW_CODE_CACHE_DAYS", "a week")
    with pytest.raises(shipping.ShippingError, match="DASKFLOW_CODE_CACHE_DAYS"):
        shipping.max_age_seconds()
