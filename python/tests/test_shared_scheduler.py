"""A bridge on an existing (shared) scheduler: it never closes it, and leaves nothing of the run on it."""

import dask
import pytest
from distributed import LocalCluster

from bridgepeer import BridgePeer, sidecar_spec, task
from helpers import sidecar_pids, wait_gone, wait_until


@pytest.fixture(scope="module")
def shared():
    # allowed-failures=0: the first worker death marks the task KilledWorker (keeps the test short)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0") as cluster:
            yield cluster


def _start(b, cluster, name):
    return b.call("start", address=cluster.scheduler_address, client_kwargs={"timeout": 10},
                  topic=f"daskflow-topic-{name}", sidecar=sidecar_spec(), plugin_name=f"daskflow-plugin-{name}")


def test_nothing_of_the_run_stays_on_the_scheduler(shared):
    sched = shared.scheduler
    b = BridgePeer()
    info = _start(b, shared, "hygiene")
    assert info["created"] is False and info["scheduler_address"] == shared.scheduler_address
    assert "daskflow-plugin-hygiene" in sched.worker_plugins
    keys = [f"hyg-{i}" for i in range(10)]
    b.send({"op": "submit", "tasks": [task(k, args=b"x") for k in keys]
            + [task("hygdep-1", deps=keys[:3]), task("hygspin-1", spec=b"spin")]})
    b.all_done(keys + ["hygdep-1"])
    assert wait_until(lambda: b.of("event"), 10)
    assert "daskflow-topic-hygiene" in sched._broker._topics
    assert len(sidecar_pids()) == 2
    assert b.close() == 0
    # the scheduler survives, forgets every key of the run, its topic and its plugin; the sidecars are gone
    assert sched.status.name == "running"
    assert wait_until(lambda: not sched.tasks, 15), list(sched.tasks)
    assert "daskflow-topic-hygiene" not in sched._broker._topics
    assert "daskflow-plugin-hygiene" not in sched.worker_plugins
    assert not wait_gone(sidecar_pids(), 15)
    assert len(sched.clients) == 1  # only the scheduler's own fire-and-forget client remains
    assert len(sched.workers) == 1


def test_killed_worker_is_a_done_error(shared):
    b = BridgePeer()
    try:
        _start(b, shared, "killed")
        b.send({"op": "submit", "tasks": [task("victim-1", spec=b"kill-worker"), task("after-1", deps=["victim-1"])]})
        d = b.done("victim-1", timeout=60)
        assert d["status"] == "error" and d["error"]["name"] == "KilledWorker", d
        assert "victim-1" in d["error"]["message"]
        d2 = b.done("after-1", timeout=60)
        assert d2["status"] == "error" and d2["error"]["name"] == "KilledWorker"  # dependents carry the upstream's
        # the nanny restarts the worker; the plugin gives the new worker its sidecars
        assert wait_until(lambda: len(shared.scheduler.workers) == 1, 30)
        b.send({"op": "submit", "tasks": [task("revived-1", args=b"ok")]})
        assert b.done("revived-1", timeout=60)["status"] == "finished"
        assert b.call("gather", keys=["revived-1"]) == [b"ok"]
    finally:
        assert b.close() == 0
