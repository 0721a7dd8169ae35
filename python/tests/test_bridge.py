"""The bridge driven through its real fds, on a real LocalCluster with worker processes and Node sidecars."""

import time

import pytest

from bridgepeer import BridgePeer, sidecar_spec, task
from helpers import sidecar_pids, wait_until

THREADS = 2


def start(b: BridgePeer, name: str, **kw):
    req = {
        "cluster_kwargs": {"n_workers": 1, "threads_per_worker": THREADS, "processes": True},
        "client_kwargs": {},
        "topic": f"daskflow-test-{name}",
        "sidecar": sidecar_spec(DASKFLOW_ECHO_ENV="from-start"),
        "plugin_name": f"daskflow-{name}",
    }
    req.update(kw)
    return b.call("start", timeout=90, **req)


@pytest.fixture(scope="module")
def bridge():
    b = BridgePeer()
    info = start(b, "shared")
    b.info = info
    yield b
    assert b.close() == 0


def test_start_reply_and_logs(bridge):
    info = bridge.info
    assert info["created"] is True and info["n_workers"] == 1
    assert info["scheduler_address"].startswith("tcp://127.0.0.1:")
    assert info["dashboard_link"].startswith("http://127.0.0.1:")
    assert "LocalCluster" in info["cluster_repr"]
    logs = [m["message"] for m in bridge.of("log")]
    assert "Creating a new Dask cluster with `distributed.LocalCluster`" in logs
    assert f"The Dask dashboard is available at {info['dashboard_link']}" in logs
    assert bridge.call("workers") == [
        {"address": bridge.call("workers")[0]["address"], "nthreads": THREADS, "resources": {}}
    ]


def test_submit_done_gather_release(bridge):
    keys = [f"echo-{i}" for i in range(20)]
    bridge.send({"op": "submit", "tasks": [task(k, args=k.encode()) for k in keys]})
    dones = bridge.all_done(keys)
    assert {d["status"] for d in dones} == {"finished"}
    assert bridge.call("gather", keys=keys) == [k.encode() for k in keys]
    bridge.send({"op": "release", "keys": keys})
    r = bridge.request("gather", keys=keys[:1])
    assert not r["ok"] and r["error"]["name"] == "UnknownKeyError"


def test_sidecar_gets_env_cwd_and_context(bridge):
    import json

    bridge.send({"op": "submit", "tasks": [task("who-1", spec=b"whoami")]})
    assert bridge.done("who-1")["status"] == "finished"
    (env,) = bridge.call("gather", keys=["who-1"])
    info = json.loads(env)
    assert info["env"] == "from-start"
    assert info["cwd"] == sidecar_spec()["cwd"]
    assert info["context"]["topic"] == "daskflow-test-shared"
    assert info["context"]["scheduler_address"] == bridge.info["scheduler_address"]
    assert info["context"]["worker_address"] == bridge.call("workers")[0]["address"]
    bridge.send({"op": "release", "keys": ["who-1"]})


def test_dependency_chain_moves_upstream_bytes(bridge):
    # a and b in one frame (b depends on a, so two waves), c in a later frame depending on both
    bridge.send({"op": "submit", "tasks": [task("chainb-1", args=b"B", deps=["chaina-1"]),
                                           task("chaina-1", args=b"A")]})
    bridge.send({"op": "submit", "tasks": [task("chainc-1", args=b"C", deps=["chaina-1", "chainb-1"])]})
    assert bridge.done("chainc-1")["status"] == "finished"
    assert bridge.call("gather", keys=["chaina-1", "chainb-1", "chainc-1"]) == [b"A", b"BA", b"CABA"]

    from distributed import Client

    with Client(bridge.info["scheduler_address"], timeout=10) as c:
        deps = c.run_on_scheduler(
            lambda dask_scheduler: sorted(d.key for d in dask_scheduler.tasks["chainc-1"].dependencies)
        )
    assert deps == ["chaina-1", "chainb-1"]  # real Dask dependencies, not values shipped by the bridge
    bridge.send({"op": "release", "keys": ["chaina-1", "chainb-1", "chainc-1"]})


def test_unknown_dependency_is_a_done_error(bridge):
    bridge.send({"op": "submit", "tasks": [task("orphan-1", deps=["never-submitted"])]})
    d = bridge.done("orphan-1")
    assert d["status"] == "error" and d["error"]["name"] == "UnknownKeyError"
    assert "never-submitted" in d["error"]["message"]


def test_worker_events_reach_the_client(bridge):
    keys = [f"evt-{i}" for i in range(5)]
    bridge.send({"op": "submit", "tasks": [task(k) for k in keys]})
    bridge.all_done(keys)

    def running():
        return {m["data"]["key"] for m in bridge.of("event")
                if m["data"].get("kind") == "state" and m["data"]["state"]["type"] == "RUNNING"}

    assert wait_until(lambda: set(keys) <= running(), 10)
    ev = next(m["data"] for m in bridge.of("event") if m["data"].get("key") == "evt-0")
    assert ev["task_run_id"] == "run-evt-0"
    assert ev["worker"].startswith("tcp://")  # added by Dask's log_event
    bridge.send({"op": "release", "keys": keys})


def test_sidecar_crash_gives_crashed_envelope_and_is_replaced(bridge):
    before = sidecar_pids(bridge.proc.pid)
    assert len(before) == THREADS
    bridge.send({"op": "submit", "tasks": [task("crash-1", spec=b"exit")]})
    assert bridge.done("crash-1")["status"] == "finished"
    (env,) = bridge.call("gather", keys=["crash-1"])
    assert env.startswith(b"CRASHED:Node sidecar (pid ") and env.endswith(b"exited with code 3")
    crashed_pid = int(env.split(b"pid ")[1].split(b")")[0])
    assert crashed_pid in before
    after = wait_until(lambda: (lambda s: s if len(s) == THREADS else None)(sidecar_pids(bridge.proc.pid)), 10)
    assert after and crashed_pid not in after
    # the worker keeps serving
    bridge.send({"op": "submit", "tasks": [task("aftercrash-1", args=b"ok")]})
    assert bridge.done("aftercrash-1")["status"] == "finished"
    assert bridge.call("gather", keys=["aftercrash-1"]) == [b"ok"]
    bridge.send({"op": "release", "keys": ["crash-1", "aftercrash-1"]})


def test_hard_timeout_kills_and_replaces_the_sidecar(bridge):
    before = sidecar_pids(bridge.proc.pid)
    t0 = time.monotonic()
    bridge.send({"op": "submit", "tasks": [task("spin-1", spec=b"spin", timeout=0.3),
                                           task("spinfirst-1", spec=b"spin-first", timeout=0.3, retries=1)]})
    bridge.all_done(["spin-1", "spinfirst-1"], timeout=30)
    elapsed = time.monotonic() - t0
    assert bridge.call("gather", keys=["spin-1", "spinfirst-1"]) == [b"TIMEOUT:attempt=0", b"attempt:1"]
    assert 2.2 < elapsed < 15
    after = wait_until(lambda: (lambda s: s if len(s) == THREADS else None)(sidecar_pids(bridge.proc.pid)), 10)
    assert after and len(before & after) == 0  # both spinning sidecars were killed and replaced
    bridge.send({"op": "release", "keys": ["spin-1", "spinfirst-1"]})


def test_annotations_groups_and_retries(bridge):
    addr = bridge.call("workers")[0]["address"]
    tasks = [task(f"ann-{i}", args=b"x", annotations={"priority": 5, "retries": 1, "workers": [addr]})
             for i in range(3)]
    tasks.append(task("ann-res", annotations={"resources": {"GPU": 1}}))
    bridge.send({"op": "submit", "tasks": tasks})
    assert {d["status"] for d in bridge.all_done([f"ann-{i}" for i in range(3)])} == {"finished"}
    time.sleep(0.5)  # no worker offers GPU: that one waits
    assert "ann-res" not in bridge.done_msgs
    bridge.send({"op": "cancel", "keys": ["ann-res"]})
    assert bridge.done("ann-res")["status"] == "cancelled"
    bridge.send({"op": "release", "keys": [t["key"] for t in tasks]})


def test_unknown_op_with_id_is_an_error_reply(bridge):
    r = bridge.request("frobnicate")
    assert not r["ok"] and "frobnicate" in r["error"]["message"]


def test_bad_cluster_class_is_a_clear_error():
    b = BridgePeer()
    try:
        r = b.request("start", cluster_class="no_such_pkg.Cluster", cluster_kwargs={}, client_kwargs={},
                      topic="t", sidecar=sidecar_spec(), plugin_name="p")
        assert not r["ok"]
        assert r["error"]["name"] == "ClusterClassImportError"
        assert "no_such_pkg.Cluster" in r["error"]["message"] and "installed" in r["error"]["message"]
        r = b.request("start", cluster_class="distributed.NoSuchCluster", cluster_kwargs={}, client_kwargs={},
                      topic="t", sidecar=sidecar_spec(), plugin_name="p")
        assert not r["ok"] and "has no attribute 'NoSuchCluster'" in r["error"]["message"]
    finally:
        assert b.close() == 0


def test_asynchronous_kwarg_is_rejected():
    b = BridgePeer()
    try:
        r = b.request("start", cluster_kwargs={"asynchronous": False}, client_kwargs={}, topic="t",
                      sidecar=sidecar_spec(), plugin_name="p")
        assert not r["ok"] and r["error"]["name"] == "BridgeConfigError"
        assert "asynchronous" in r["error"]["message"]
    finally:
        assert b.close() == 0


def test_unreachable_address_errors_within_bounded_time():
    b = BridgePeer()
    try:
        t0 = time.monotonic()
        r = b.request("start", address="tcp://127.0.0.1:1", client_kwargs={"timeout": 2}, topic="t",
                      sidecar=sidecar_spec(), plugin_name="p", timeout=30)
        assert not r["ok"]
        assert "tcp://127.0.0.1:1" in r["error"]["message"]
        assert time.monotonic() - t0 < 15
        logs = [m["message"] for m in b.of("log")]
        assert "Connecting to an existing Dask cluster at tcp://127.0.0.1:1" in logs
    finally:
        assert b.close() == 0
