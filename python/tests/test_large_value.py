"""Large results as Dask holds them (large_value.py) and the bridge's value files (sender_files.py)."""

import os
import struct

import msgpack
import pytest
from dask.sizeof import sizeof
from distributed.protocol import deserialize, serialize

from daskflow_bridge.transfer import framing as F
from daskflow_bridge.transfer.large_value import LARGE, LargeValue, wrap
from daskflow_bridge.transfer.reading import FrameDecoder
from daskflow_bridge.transfer.sender_files import PROBE, SenderFiles


def test_large_results_are_wrapped_and_dask_keeps_the_received_frame():
    small = b"x" * 100
    assert wrap(small) is small
    data = bytearray(os.urandom(LARGE + 5))
    value = wrap(data)
    assert isinstance(value, LargeValue) and len(value) == len(data)
    assert sizeof(value) == len(data)  # Dask's memory accounting sees the real size
    header, frames = serialize(value)
    assert len(frames) == 1 and memoryview(frames[0]).obj is data  # sent from the result's own memory
    received = bytearray(frames[0])  # what a receiving comm hands the deserializer
    back = deserialize(header, [received])
    assert isinstance(back, LargeValue) and back.view.obj is received  # kept as it arrived: no join, no copy
    assert bytes(back) == bytes(data)


def test_a_large_value_is_written_as_its_bytes_in_a_frame():
    data = os.urandom(LARGE * 2)
    frame = F.encode({"op": "done", "envelope": LargeValue(data)})
    [msg] = FrameDecoder().feed(frame)
    assert bytes(msg["envelope"]) == data


@pytest.mark.skipif(not SenderFiles.available(), reason="value files need memfd and /proc (Linux)")
def test_sender_files_put_values_in_memfds_a_reader_opens_by_proc_path_and_release_closes():
    files = SenderFiles()
    probe = files.probe()
    with open(f"/proc/{os.getpid()}/fd/{probe}", "rb") as f:
        assert f.read() == PROBE
    data = os.urandom(3 * LARGE)
    parts = F.encode_parts({"op": "reply", "id": 1, "ok": True, "value": [LargeValue(data), b"small"]}, files)
    frame = b"".join(bytes(p) for p in parts)
    assert len(frame) < 200  # the value went into a file, the frame holds a reference
    refs = []

    def hook(code, payload):
        assert code == F.SENDER_FILE_EXT
        fd, n = struct.unpack(">IQ", payload)
        refs.append(fd)
        with open(f"/proc/{os.getpid()}/fd/{fd}", "rb") as f:
            return f.read(n)

    msg = msgpack.unpackb(frame[4:], raw=False, ext_hook=hook)
    assert msg["value"] == [data, b"small"]
    assert set(refs) | {probe} == files.open
    files.release(refs + [probe, 12345])  # an fd it never had is ignored
    assert files.open == set()
    with pytest.raises(OSError):
        os.fstat(refs[0])


@pytest.mark.skipif(not SenderFiles.available(), reason="value files need memfd and /proc (Linux)")
def test_sender_memory_refers_to_values_where_they_are_and_holds_them_until_released():
    import weakref

    from daskflow_bridge.transfer.process_memory import MEMORY_EXT

    files = SenderFiles()
    pid, address, token = files.token.value.split(":")
    with open(f"/proc/{pid}/mem", "rb") as mem:  # what the flow process checks before answering memory: true
        mem.seek(int(address))
        assert mem.read(16).hex() == token
    files.in_memory = True

    class Received(bytearray):  # a buffer Dask received (weakly referable, to see when it is let go)
        pass

    received = Received(os.urandom(3 * LARGE))
    data = bytes(received)
    parts = F.encode_parts({"op": "reply", "id": 1, "ok": True, "value": LargeValue(received)}, files)
    assert files.open == set(), "no file: the value stays where it is"
    gone = weakref.finalize(received, lambda: None)
    del received
    assert gone.alive, "held until the flow process has read it"
    refs = []

    def hook(code, payload):
        assert code == MEMORY_EXT
        handle, at, n = struct.unpack(">IQQ", payload)
        refs.append(handle)
        with open(f"/proc/{os.getpid()}/mem", "rb") as mem:
            mem.seek(at)
            return mem.read(n)

    msg = msgpack.unpackb(b"".join(bytes(p) for p in parts)[4:], raw=False, ext_hook=hook)
    assert msg["value"] == data
    files.release(refs)
    assert not gone.alive and files.held == {}, "released: let go"
