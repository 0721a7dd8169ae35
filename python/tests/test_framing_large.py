"""Large frames on the Python side (daskflow_bridge/transfer/framing.py): a large frame in many small reads, many frames in
one read, large values written by reference and through a side file, and nothing kept afterwards."""

import os
import threading

import msgpack

from daskflow_bridge.transfer import framing as F
from daskflow_bridge.transfer.reading import FrameDecoder, FrameReader


def pattern(n: int, seed: int) -> bytes:
    return bytes((i * 31 + seed) & 0xFF for i in range(256)) * (n // 256) + bytes(n % 256)


def test_large_frame_in_small_chunks_is_one_message_and_nothing_is_kept():
    envelope = pattern(24 << 20, 5)
    msg = {"op": "done", "envelope": envelope, "event": {"kind": "state", "n": [1, None, 2.5]}}
    frame = F.encode(msg)
    dec = FrameDecoder()
    out = []
    for at in range(0, len(frame), 65536):
        got = dec.feed(frame[at:at + 65536])
        assert got == [] or at + 65536 >= len(frame)
        out.extend(got)
    assert out == [msg]
    assert isinstance(out[0]["envelope"], bytearray)  # the frame's own buffer, trimmed to the value (no copy)
    assert dec.pending == 0


def test_many_frames_in_one_chunk_and_split_anywhere():
    msgs = [{"op": "event", "i": i, "data": pattern(70_000 + i, i) if i % 50 == 0 else f"small {i}"} for i in range(500)]
    stream = b"".join(F.encode(m) for m in msgs)
    assert FrameDecoder().feed(stream) == msgs
    for size in (1, 3, 4097):
        dec = FrameDecoder()
        got = []
        for at in range(0, len(stream), size):
            got.extend(dec.feed(stream[at:at + size]))
        assert got == msgs, f"chunks of {size} bytes"
        assert dec.pending == 0


def test_parts_are_exactly_msgpack_with_large_values_by_reference():
    big = pattern(200_000, 1)
    msg = {"op": "run", "spec": b"ab", "deps": [big, pattern(100, 3), memoryview(big)[5:]], "meta": {"name": "t", "x": None}}
    parts = F.encode_parts(msg)
    assert any(p is big for p in parts), "the big value is written from its own buffer"
    body = msgpack.packb(msg, use_bin_type=True)
    assert b"".join(bytes(p) for p in parts) == len(body).to_bytes(4, "big") + body


def test_large_frame_over_a_pipe_read_straight_into_one_buffer():
    r, w = os.pipe()
    F.widen_pipe(w)
    msg = {"op": "done", "envelope": pattern(30 << 20, 9)}
    writer = threading.Thread(target=F.write_frame, args=(w, msg))
    writer.start()
    try:
        reader = FrameReader(r)
        assert reader.read() == msg
        F.write_frame(w, {"op": "ready", "pid": 1})
        assert reader.read() == {"op": "ready", "pid": 1}
    finally:
        writer.join()
        os.close(r)
        os.close(w)


def test_side_file_carries_large_values_and_is_emptied_after_reading():
    fd = F.SideFile.create("daskflow-test")
    if fd < 0:  # not Linux: a plain file works the same way
        import tempfile

        fd = os.dup(tempfile.TemporaryFile().fileno())
    r, w = os.pipe()
    try:
        a, b = pattern(3 << 20, 7), pattern((1 << 20) + 1, 8)
        msg = {"op": "run", "deps": [a, b], "args": pattern(1000, 9), "attempt": 0}
        F.write_frame(w, msg, F.SideFile(fd))
        assert os.fstat(fd).st_size == len(a) + len(b)
        got = FrameReader(r, F.SideFile(fd)).read()
        assert got == msg
        assert os.fstat(fd).st_size == 0, "the reader frees the side file's memory"
    finally:
        for x in (r, w, fd):
            os.close(x)
