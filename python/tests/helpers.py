import time

import psutil

from bridgepeer import ECHO_SIDECAR


def sidecar_pids(root: int | None = None) -> set[int]:
    """Running echo sidecars below process ``root`` (default: this test process)."""
    out = set()
    try:
        procs = psutil.Process(root).children(recursive=True)
    except psutil.NoSuchProcess:
        return out
    for p in procs:
        try:
            if ECHO_SIDECAR in p.cmdline() and p.status() != psutil.STATUS_ZOMBIE:
                out.add(p.pid)
        except psutil.Error:
            pass
    return out


def descendants(pid: int) -> set[int]:
    try:
        return {c.pid for c in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def alive(pids) -> set[int]:
    out = set()
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                out.add(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def wait_until(pred, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def describe(pids) -> list[str]:
    out = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            out.append(f"{pid} {p.status()} {' '.join(p.cmdline())[:150]}")
        except psutil.NoSuchProcess:
            out.append(f"{pid} gone")
    return out


def wait_gone(pids, timeout: float = 15.0) -> set[int]:
    """Wait until none of ``pids`` is alive; return those still alive at the deadline."""
    wait_until(lambda: not alive(pids), timeout)
    return alive(pids)
