"""The Prefect side of bench/prefect-compare.ts: the same workloads as the daskflow side, written with Prefect 3 flows
and tasks on prefect-dask's DaskTaskRunner, run in Prefect's normal local mode (its ephemeral API server).

    .venv-bench/bin/python bench/prefect_side.py '<cluster kwargs JSON>' [TRIVIAL] [CHAIN] [MAP] [FAN] [SLEEP_S]

(bash bench/setup-prefect.sh creates .venv-bench.) Prints one JSON object on stdout (times in seconds).
bench/prefect-compare.ts runs it as a subprocess, alternating with the daskflow side, on the same cluster kwargs, and
sets PREFECT_HOME to a temporary directory (so ~/.prefect is not touched) and PREFECT_LOGGING_LEVEL=WARNING (per-task
INFO logs would otherwise be part of what is measured); run by hand, this script sets the same defaults itself.

Workloads, one flow run, after a warm-up (which starts the cluster and has every worker run the tasks once):
    trivial  TRIVIAL `inc.submit(i)`, then `f.result()` of each
    chain    `f = inc.submit(0)`, then CHAIN-1 x `f = inc.submit(f)`, all submitted at once, until `f.result()`
    map      `inc.map(range(MAP))`, then `.result()` of the returned PrefectFutureList
    fan      FAN x `nap.submit(i)` (each sleeps SLEEP_S seconds), then `total.submit(futures).result()`
"""

from __future__ import annotations

import time

T_PROCESS = time.perf_counter()  # before importing prefect

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

# Defaults for a run by hand; prefect-compare.ts passes its own. Set before `import prefect`, which reads them.
_OWN_HOME = None
if "PREFECT_HOME" not in os.environ:
    _OWN_HOME = tempfile.TemporaryDirectory(prefix="daskflow-bench-prefect-home-")
    os.environ["PREFECT_HOME"] = _OWN_HOME.name
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

# Which Prefect API the flow process and the Dask workers talk to (see the module docstring of prefect-compare.ts and
# bench/README.md):
#   shared     (default) Prefect's own ephemeral API server (SubprocessASGIServer, the server Prefect starts by itself
#              when no PREFECT_API_URL is set), started here by the flow process on a port chosen up front and
#              published as PREFECT_API_URL, so that the Dask worker processes, which inherit the environment, use
#              the same server instead of each starting its own.
#   ephemeral  nothing set: exactly what a user who just installed Prefect gets. Every Dask worker process then
#              starts its own ephemeral server on the same SQLite database at its first task; on this machine that
#              fails the first tasks ("Server process did not start", "Failed to reach API", start-up time-outs).
API_MODE = os.environ.get("BENCH_PREFECT_API", "shared")
if API_MODE not in ("shared", "ephemeral"):
    raise SystemExit(f"BENCH_PREFECT_API must be shared or ephemeral, got {API_MODE!r}")
_PORT = None
if API_MODE == "shared" and "PREFECT_API_URL" not in os.environ:
    import socket

    with socket.socket() as _s:
        _s.bind(("127.0.0.1", 0))
        _PORT = _s.getsockname()[1]
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{_PORT}/api"

from prefect import flow, task  # noqa: E402
from prefect_dask import DaskTaskRunner  # noqa: E402

T_IMPORTED = time.perf_counter()


@task
def inc(x: int) -> int:
    return x + 1


@task
def nap(i: int, seconds: float) -> int:
    time.sleep(seconds)
    return i


@task
def total(values: list) -> int:
    return sum(values)


def run_workloads(n: int, chain: int, n_map: int, fan: int, sleep_s: float) -> dict:
    out: dict = {}
    t = time.perf_counter()
    # Warm-up: starts the cluster (lazily, on first submit) and has every worker thread run each task function once.
    # Inputs differ from the workloads' so no cache policy could ever reuse a warm-up run.
    for _ in range(2):
        warm = [inc.submit(-100 - i) for i in range(20)]
        assert [f.result() for f in warm] == [-99 - i for i in range(20)]
    warm_naps = [nap.submit(-1, 0.0) for _ in range(8)]
    assert total.submit(warm_naps).result() == -8
    out["warmup_s"] = time.perf_counter() - t

    # (a) trivial: submit each, then result() of each, as a Prefect user writes it.
    t = time.perf_counter()
    futures = [inc.submit(i) for i in range(n)]
    t_submitted = time.perf_counter()
    values = [f.result() for f in futures]
    out["trivial_s"] = time.perf_counter() - t
    out["trivial_submit_s"] = t_submitted - t
    assert sum(values) == n * (n + 1) // 2
    del futures, values

    # (b) chain: each task takes the previous one's future (a Dask dependency); all submitted at once.
    t = time.perf_counter()
    f = inc.submit(0)
    for _ in range(chain - 1):
        f = inc.submit(f)
    last = f.result()
    out["chain_s"] = time.perf_counter() - t
    assert last == chain, last
    del f

    # (c) map over n_map items.
    t = time.perf_counter()
    mapped = inc.map(range(n_map))
    t_submitted = time.perf_counter()
    values = mapped.result()
    out["map_s"] = time.perf_counter() - t
    out["map_submit_s"] = t_submitted - t
    assert sum(values) == n_map * (n_map + 1) // 2
    del mapped, values

    # (d) fan-out / fan-in: fan sleeping tasks, then one task that takes all their futures.
    t = time.perf_counter()
    naps = [nap.submit(i, sleep_s) for i in range(fan)]
    t_submitted = time.perf_counter()
    s = total.submit(naps).result()
    out["fan_s"] = time.perf_counter() - t
    out["fan_submit_s"] = t_submitted - t
    assert s == fan * (fan - 1) // 2, s
    return out


def main() -> None:
    kwargs = json.loads(sys.argv[1])
    n, chain, n_map, fan = (int(sys.argv[i]) if len(sys.argv) > i else d for i, d in ((2, 2000), (3, 50), (4, 10000), (5, 500)))
    sleep_s = float(sys.argv[6]) if len(sys.argv) > 6 else 0.05

    @flow(name="bench-prefect-dask", task_runner=DaskTaskRunner(cluster_kwargs=kwargs))
    def bench_flow() -> dict:
        return run_workloads(n, chain, n_map, fan, sleep_s)

    server = None
    t = time.perf_counter()
    if _PORT is not None:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer(port=_PORT)
        server.start()
    server_start_s = time.perf_counter() - t

    t = time.perf_counter()
    try:
        result = bench_flow()
        # The flow call: flow run, cluster start, warm-up, workloads, cluster teardown (and, in ephemeral mode, the
        # start of the API server).
        result["flow_total_s"] = time.perf_counter() - t
    finally:
        if server is not None:
            server.stop()
    result["api"] = API_MODE
    result["server_start_s"] = server_start_s
    result["import_s"] = T_IMPORTED - T_PROCESS
    result["process_s"] = time.perf_counter() - T_PROCESS

    import distributed
    import prefect
    import prefect_dask

    result["versions"] = f"prefect {prefect.__version__}, prefect-dask {prefect_dask.__version__}, distributed {distributed.__version__}"
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
