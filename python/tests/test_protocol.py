import os
import time

import pytest

from daskflow_bridge.transfer import protocol as P


def test_encode_decode_round_trip_in_odd_chunks():
    msgs = [
        {"op": "submit", "tasks": [{"key": "t-1", "spec": b"\x00\x01", "args": b"", "deps": [], "meta": {"n": 1}}]},
        {"op": "reply", "id": 7, "ok": True, "value": [b"x" * 70000, None, 1.5, "é"]},
        {"op": "close", "id": 8},
    ]
    data = b"".join(P.encode(m) for m in msgs)
    assert data[:4] == len(data[4 : 4 + int.from_bytes(data[:4], "big")]).to_bytes(4, "big")
    dec = P.FrameDecoder()
    out = []
    for i in range(0, len(data), 3):  # byte-by-byte-ish delivery
        out.extend(dec.feed(data[i : i + 3]))
    assert out == msgs
    assert dec.pending == 0
    assert isinstance(out[0]["tasks"][0]["spec"], bytes)  # bin stays bin


def test_frames_over_a_pipe_and_deadline():
    r, w = os.pipe()
    try:
        P.write_frame(w, {"op": "ready", "pid": 1})
        P.write_frame(w, {"op": "done", "envelope": b"abc"})
        reader = P.FrameReader(r)
        assert reader.read() == {"op": "ready", "pid": 1}
        assert reader.read(deadline=time.monotonic() + 1) == {"op": "done", "envelope": b"abc"}
        t = time.monotonic()
        assert reader.read(deadline=time.monotonic() + 0.2) is None
        assert time.monotonic() - t >= 0.19
        P.write_frame(w, {"op": "x"})
        assert P.read_frame(r) == {"op": "x"}
    finally:
        os.close(w)
    with pytest.raises(P.ChannelClosed):
        P.FrameReader(r).read()
    os.close(r)


def test_rejects_non_map_frames():
    import msgpack

    body = msgpack.packb([1, 2])
    with pytest.raises(P.ProtocolError):
        list(P.FrameDecoder().feed(len(body).to_bytes(4, "big") + body))


def test_error_info_has_name_message_stack():
    try:
        raise KeyError("nope")
    except KeyError as exc:
        info = P.error_info(exc)
    assert info["name"] == "KeyError" and "nope" in info["message"] and "Traceback" in info["stack"]
