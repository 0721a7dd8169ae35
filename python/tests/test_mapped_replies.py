"""Results kept in place (daskflow_bridge/transfer/mapped_replies.py): a kept value is the side file's own pages, mapped
(no copy); a value not to keep is copied out; the ranges of values gone are offered to the sidecar to write into,
within a budget and for a while, and then freed."""

import gc
import os
import struct

import msgpack
import pytest

from daskflow_bridge.transfer import framing as F
from daskflow_bridge.transfer.large_value import LargeValue
from daskflow_bridge.transfer.mapped_replies import KEPT_EXT, MappedReplies
from daskflow_bridge.transfer.reading import FrameReader

pytestmark = pytest.mark.skipif(F.SideFile.create("probe") < 0, reason="memfd is Linux-only")
ALIGN = 64 * 1024


def held(fd: int) -> int:
    """Bytes of memory the file holds (not its size: kept values leave holes behind, never a shorter file)."""
    return os.fstat(fd).st_blocks * 512


def put(fd: int, data: bytes, offset: int, ext: int) -> msgpack.ExtType:
    os.pwrite(fd, data, offset)
    return msgpack.ExtType(ext, struct.pack(">QQ", offset, len(data)))


def test_a_kept_value_is_the_files_pages_and_is_freed_when_dropped():
    fd = F.SideFile.create("daskflow-test-replies")
    r, w = os.pipe()
    try:
        kept, copied = os.urandom(3 << 20), os.urandom((1 << 20) + 3)
        frame = {"op": "done", "envelope": put(fd, kept, 0, KEPT_EXT), "other": put(fd, copied, 4 * ALIGN * 16, F.SIDE_EXT)}
        F.write_all(w, [F.encode({k: v for k, v in frame.items()})])
        replies = MappedReplies(fd)
        replies.keeping = True  # as the sidecar's `ready` says
        reader = FrameReader(r, replies)
        msg = reader.read()
        assert isinstance(msg["envelope"], LargeValue) and msg["envelope"].view.readonly
        assert bytes(msg["envelope"]) == kept and msg["other"] == copied and isinstance(msg["other"], bytes)
        copied_pages = -(-len(copied) // 4096) * 4096
        assert held(fd) == (3 << 20) + copied_pages, "the kept value's pages are the value; the copied one's are kept to reuse"
        os.pwrite(fd, b"\0" * 16, 0)  # the file's pages are the value: a change shows through
        assert bytes(msg["envelope"].view[:16]) == b"\0" * 16
        msg = None
        gc.collect()
        assert held(fd) == (3 << 20) + copied_pages, "a dropped value's pages are kept a while, for the sidecar to write into"
        assert sorted(replies.hand_out()) == [[0, 3 << 20], [4 * ALIGN * 16, 17 * ALIGN]], "and offered with the next request"
        b = replies.get(KEPT_EXT, put(fd, os.urandom(1 << 20), 3 << 20, KEPT_EXT).data)  # appended: right after the first
        assert sorted(replies.hand_out()) == [[0, 3 << 20], [4 * ALIGN * 16, 17 * ALIGN]], "ranges a request did not use are offered again"
        b = None
        gc.collect()
        assert replies.hand_out() == [[0, (4 << 20) + 17 * ALIGN]], "neighbours are offered as one range"
        assert os.fstat(fd).st_size > 0, "the file keeps its size (later values go after it)"
    finally:
        for x in (r, w, fd):
            os.close(x)


def test_a_kept_value_outlives_the_sidecars_file_descriptor():
    fd = F.SideFile.create("daskflow-test-replies")
    data = os.urandom(2 << 20)
    replies = MappedReplies(fd)
    replies.keeping = True
    value = replies.get(KEPT_EXT, put(fd, data, ALIGN, KEPT_EXT).data)
    os.close(fd)  # the sidecar was replaced: its fds are closed
    replies = None
    assert bytes(value) == data
    value = None
    gc.collect()  # unmaps, and frees through the reply file's own duplicate fd, which then closes


def test_until_the_sidecar_says_it_keeps_values_are_copied_and_the_file_emptied():
    fd = F.SideFile.create("daskflow-test-replies")
    try:
        replies = MappedReplies(fd)
        a, b = os.urandom((1 << 20) + 1), os.urandom(1 << 20)
        ref_a, ref_b = put(fd, a, 0, F.SIDE_EXT), put(fd, b, len(a), F.SIDE_EXT)  # an older sidecar: back to back
        assert replies.get(ref_a.code, ref_a.data) == a and replies.get(ref_b.code, ref_b.data) == b
        replies.clear()
        assert os.fstat(fd).st_size == 0
    finally:
        os.close(fd)


def test_freed_ranges_are_reused_within_a_budget_and_a_time_then_freed(monkeypatch):
    import daskflow_bridge.transfer.mapped_replies as M

    fd = F.SideFile.create("daskflow-test-replies")
    try:
        replies = MappedReplies(fd)
        replies.keeping = True
        a = replies.get(KEPT_EXT, put(fd, os.urandom(2 << 20), 0, KEPT_EXT).data)
        a = None
        gc.collect()
        [[offset, length]] = replies.hand_out()
        assert (offset, length) == (0, 2 << 20)
        data = os.urandom(1 << 20)  # the sidecar wrote a smaller value into the offered range
        b = replies.get(KEPT_EXT, put(fd, data, 0, KEPT_EXT).data)
        assert bytes(b) == data and replies.hand_out() == [], "the range is the new value's now"
        b = None
        gc.collect()
        assert replies.hand_out() == [[0, 2 << 20]], "and comes back whole when that value goes"
        replies.hand_out()  # not used by the last request: free again
        monkeypatch.setattr(M, "REUSE_BUDGET", 1 << 20)
        c = replies.get(KEPT_EXT, put(fd, os.urandom(2 << 20), 4 << 20, KEPT_EXT).data)
        c = None
        gc.collect()
        assert held(fd) == 2 << 20, "over the budget: freed at once"
        monkeypatch.setattr(M, "REUSE_IDLE", 0.0)
        replies.hand_out()
        assert held(fd) == 0, "past the idle time: freed"
    finally:
        os.close(fd)
