"""Process lifecycle: nothing the bridge started outlives it (close, EOF of fd 3, SIGTERM)."""

import os
import signal

import pytest

from bridgepeer import BridgePeer, task
from helpers import describe, descendants, sidecar_pids, wait_gone
from test_bridge import start


def assert_all_exit(procs: set[int]) -> None:
    """Nannies, workers, sidecars and multiprocessing's resource tracker are all gone promptly."""
    left = wait_gone(procs, 15)
    assert not left, f"left running: {describe(left)}"


def _processes_of(b: BridgePeer) -> set[int]:
    return descendants(b.proc.pid)  # nannies, workers, and the sidecars the workers started


def test_close_leaves_no_processes():
    b = BridgePeer()
    start(b, "closing", cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True})
    b.send({"op": "submit", "tasks": [task("x-1"), task("x-2", spec=b"spin")]})  # one still running at close
    b.done("x-1")
    procs = _processes_of(b) - {b.proc.pid}
    assert len(procs & sidecar_pids(b.proc.pid)) == 2  # one sidecar per worker thread
    assert len(procs) >= 2 + 2
    assert b.close() == 0
    assert_all_exit(procs)


@pytest.mark.parametrize("how", ["eof", "sigterm"])
def test_eof_or_signal_tears_down(how):
    b = BridgePeer()
    start(b, f"teardown-{how}", cluster_kwargs={"n_workers": 1, "threads_per_worker": 1, "processes": True})
    procs = _processes_of(b) - {b.proc.pid}
    assert procs
    if how == "eof":
        os.close(b.wfd)  # the flow process died
        expected = 0
    else:
        b.proc.send_signal(signal.SIGTERM)
        expected = 128 + signal.SIGTERM
    assert b.proc.wait(60) == expected
    assert_all_exit(procs)
