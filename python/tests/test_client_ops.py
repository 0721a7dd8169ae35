"""getDaskClient()'s ops (call, compute) through the real bridge, on a client-only connection to a LocalCluster."""

import pytest

from bridgepeer import BridgePeer
from daskflow_bridge.client_ops import NotSendableError, to_wire


@pytest.fixture(scope="module")
def client_bridge():
    b = BridgePeer()
    info = b.call(
        "start",
        timeout=90,
        cluster_kwargs={"n_workers": 1, "threads_per_worker": 2, "processes": False},
        client_kwargs={},
        client_only=True,
    )
    b.info = info
    yield b
    assert b.close() == 0


def test_client_only_start_registers_nothing(client_bridge):
    assert client_bridge.info["created"] is True
    assert client_bridge.info["n_workers"] == 1


def test_call_runs_a_python_callable_by_path(client_bridge):
    assert client_bridge.call("call", callable="operator.mul", args=[6, 7], kwargs={}) == 42
    r = client_bridge.request("call", callable="nope_module.f", args=[], kwargs={})
    assert not r["ok"] and "cannot import 'nope_module.f'" in r["error"]["message"]


def test_compute_evaluates_a_dask_collection(client_bridge):
    assert client_bridge.call("compute", expression="db.from_sequence(range(10), npartitions=2).sum()") == 45
    assert client_bridge.call("compute", expression="da.ones(4, chunks=2).sum()") == 4.0
    r = client_bridge.request("compute", expression="object()")
    assert not r["ok"] and r["error"]["name"] == "NotSendableError"


def test_to_wire_converts_numpy_values():
    np = pytest.importorskip("numpy")
    assert to_wire({"a": np.arange(3), "b": np.float64(1.5), "c": (1, 2)}) == {"a": [0, 1, 2], "b": 1.5, "c": [1, 2]}
    with pytest.raises(NotSendableError):
        to_wire(object())
