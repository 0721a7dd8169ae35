"""Result records through fsspec on a local path: written as the Node side reads them, looked up in one batch, a
corrupted or foreign record reported (never returned), a location that cannot be written named by the probe."""

import json

from daskflow_bridge.results import store


def test_written_records_are_hits_and_read_back(tmp_path):
    loc = str(tmp_path / "results")
    store.write_record({"location": loc, "key": "k1", "task": "t"}, b"bytes-1")
    record = (tmp_path / "results" / "k1.dfr").read_bytes()
    meta = json.loads(record[8:8 + int.from_bytes(record[4:8], "big")])
    assert meta["size"] == 7 and meta["encoding"] == store.ENCODING_VERSION and meta["task"] == "t"
    assert store.lookup(loc, ["k1", "missing"]) == {"k1": "ok", "missing": None}
    assert store.read(loc, "k1") == b"bytes-1"


def test_corrupted_expired_and_foreign_records_are_not_hits(tmp_path):
    loc = str(tmp_path)
    store.write_record({"location": loc, "key": "bad", "task": "t"}, b"original")
    bad = tmp_path / "bad.dfr"
    bad.write_bytes(bad.read_bytes()[:-1] + b"X")
    store.write_record({"location": loc, "key": "old", "task": "t", "expires": 1.0}, b"x")
    store.write_record({"location": loc, "key": "foreign", "task": "t"}, b"x")
    header = json.dumps({"key": "foreign", "encoding": 99, "size": 1}).encode()
    (tmp_path / "foreign.dfr").write_bytes(store.MAGIC + len(header).to_bytes(4, "big") + header + b"x")
    found = store.lookup(loc, ["bad", "old", "foreign"])
    assert "checksum" in found["bad"]
    assert found["old"] is None
    assert "encoding version 99" in found["foreign"]


def test_probe_names_why_a_location_cannot_be_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert store.probe(str(tmp_path / "ok")) is None
    assert store.probe(str(blocker / "results")) is not None
