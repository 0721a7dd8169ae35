"""Cluster classes as Dask users write them: narrower constructors, no `asynchronous`, no `adapt` (issue 10 item 2)."""

import os
import sys
from pathlib import Path

import pytest
from distributed import LocalCluster

from bridgepeer import BridgePeer, sidecar_spec, task
from daskflow_bridge.bridge.cluster_signature import EXPLICIT, WORKERS, accepts

FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(FIXTURES))  # as the bridge sees it with PYTHONPATH (below)

from daskflow_test_clusters import NarrowLocalCluster, SyncOnlyCluster  # noqa: E402


class ForwardsEverything(LocalCluster):
    def __init__(self, label="x", **kwargs):
        super().__init__(**kwargs)


def test_accepts_follows_kwargs_up_the_mro():
    assert accepts(LocalCluster, "host") == EXPLICIT
    assert accepts(LocalCluster, "plugins") == WORKERS  # through **worker_kwargs to distributed.Worker
    assert accepts(ForwardsEverything, "dashboard_address") == EXPLICIT
    assert accepts(ForwardsEverything, "plugins") == WORKERS
    assert accepts(ForwardsEverything, "no_such_option") is None
    assert accepts(NarrowLocalCluster, "host") is None and accepts(NarrowLocalCluster, "plugins") is None
    assert accepts(NarrowLocalCluster, "asynchronous") == EXPLICIT
    assert accepts(SyncOnlyCluster, "asynchronous") is None


@pytest.fixture
def fixtures_on_path(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(FIXTURES) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _start(b, cluster_class, **kw):
    return b.request("start", cluster_class=cluster_class, client_kwargs={}, topic=f"t-{cluster_class}",
                     sidecar=sidecar_spec(), plugin_name=f"p-{cluster_class}", timeout=120, **kw)


@pytest.mark.parametrize("cls, mode", [("NarrowLocalCluster", "async"), ("SyncOnlyCluster", "sync")])
def test_narrow_cluster_classes_run_tasks_and_adapt(fixtures_on_path, cls, mode):
    b = BridgePeer()
    try:
        kwargs = {"label": "mine"} if cls == "NarrowLocalCluster" else {}
        r = _start(b, f"daskflow_test_clusters.{cls}", cluster_kwargs=kwargs, adapt_kwargs={"minimum": 1, "maximum": 2})
        assert r["ok"], r.get("error")
        info = r["value"]
        assert f"mode={mode}" in info["cluster_repr"]
        assert "adapted={'maximum': 2, 'minimum': 1}" in info["cluster_repr"]
        if cls == "NarrowLocalCluster":
            assert "label='mine'" in info["cluster_repr"]  # the user's kwargs reach the class
        b.send({"op": "submit", "tasks": [task("k-1")]})  # runs only if the plugin started the sidecars
        assert b.done("k-1", timeout=90)["status"] == "finished"
    finally:
        assert b.close() == 0


def test_adapt_kwargs_for_a_cluster_without_adapt_is_a_clear_error(fixtures_on_path):
    b = BridgePeer()
    try:
        r = _start(b, "daskflow_test_clusters.NoAdaptCluster", cluster_kwargs={}, adapt_kwargs={"maximum": 2})
        assert not r["ok"]
        assert r["error"]["name"] == "BridgeConfigError"
        assert "has no adapt() method" in r["error"]["message"]
    finally:
        assert b.close() == 0
