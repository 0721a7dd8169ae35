"""DaskClient's ops through the real bridge on a LocalCluster: callables held under the client's keys, scatter,
gather, release, cancel, scheduler info; and that no Python expression is evaluated any more."""

import pytest

from bridgepeer import BridgePeer, sidecar_spec
from daskflow_bridge.session.client_ops import NotSendableError, import_callable, to_wire


@pytest.fixture(scope="module")
def client_bridge():
    b = BridgePeer()
    b.info = b.call(
        "start", timeout=90,
        cluster_kwargs={"n_workers": 1, "threads_per_worker": 2, "processes": False},
        client_kwargs={}, topic="daskflow-test-client", sidecar=sidecar_spec(), plugin_name="daskflow-client",
    )
    yield b
    assert b.close() == 0


def test_call_holds_the_future_under_the_clients_key(client_bridge):
    b = client_bridge
    assert b.call("call", key="mul-1", callable="operator.mul", args=[6, 7], kwargs={}) is None
    assert b.call("client-gather", keys=["mul-1"]) == [42]
    b.send({"op": "client-release", "keys": ["mul-1"]})
    r = b.request("client-gather", keys=["mul-1"])
    assert not r["ok"] and r["error"]["name"] == "UnknownFutureError"


def test_scattered_data_is_an_argument_by_reference(client_bridge):
    b = client_bridge
    b.call("scatter", key="data-1", data=[1, 2, 3, 4])
    b.call("call", key="sum-1", callable="builtins.sum", args=[{"__daskflow_future__": "data-1"}], kwargs={})
    assert b.call("client-gather", keys=["sum-1", "data-1"]) == [10, [1, 2, 3, 4]]


def test_errors_arrive_by_name(client_bridge):
    b = client_bridge
    r = b.request("call", key="x-1", callable="nope_module.f", args=[], kwargs={})
    assert not r["ok"] and "cannot import 'nope_module.f'" in r["error"]["message"]
    r = b.request("call", key="x-2", callable="os.system(1)", args=[], kwargs={})
    assert not r["ok"] and "import path" in r["error"]["message"]
    b.call("call", key="div-1", callable="operator.truediv", args=[1, 0], kwargs={})
    r = b.request("client-gather", keys=["div-1"])
    assert not r["ok"] and r["error"]["name"] == "ZeroDivisionError"


def test_cancel_scheduler_info_and_workers(client_bridge):
    b = client_bridge
    b.call("call", key="sleep-1", callable="time.sleep", args=[30], kwargs={})
    b.call("client-cancel", keys=["sleep-1"])
    r = b.request("client-gather", keys=["sleep-1"])
    assert not r["ok"]
    info = b.call("scheduler-info")
    assert info["address"].startswith("inproc://")
    assert [w["nthreads"] for w in info["workers"].values()] == [2]
    assert b.call("wait-for-workers", n=1, timeout_seconds=10) == 1
    r = b.request("wait-for-workers", n=3, timeout_seconds=1)
    assert not r["ok"] and "fewer than 3 Dask worker(s) joined within 1 s" in r["error"]["message"]


def test_no_expression_is_evaluated(client_bridge):
    r = client_bridge.request("compute", expression="__import__('os').getpid()")
    assert not r["ok"] and "unknown op 'compute'" in r["error"]["message"]
    with pytest.raises(ValueError):
        import_callable("__import__('os').system")


def test_to_wire_converts_numpy_values():
    np = pytest.importorskip("numpy")
    assert to_wire({"a": np.arange(3), "b": np.float64(1.5), "c": (1, 2)}) == {"a": [0, 1, 2], "b": 1.5, "c": [1, 2]}
    with pytest.raises(NotSendableError):
        to_wire(object())
