"""The raw-Dask side of bench/dask.ts: the same workloads written directly against distributed's own Client.

    .venv/bin/python bench/raw_dask.py work     '<cluster kwargs JSON>' [N] [CHAIN]   # throughput + chain, one cluster
    .venv/bin/python bench/raw_dask.py startup  '<cluster kwargs JSON>'               # nothing -> first result
    .venv/bin/python bench/raw_dask.py fan      '<cluster kwargs JSON>' N SECONDS ROUNDS   # fan-out/fan-in (prefect-compare)

Prints one JSON object on stdout (times in seconds). bench/dask.ts runs it as a subprocess, alternating with the
daskflow side, on the same cluster kwargs.
"""

from __future__ import annotations

import time

T_PROCESS = time.perf_counter()  # as close to interpreter start as a script gets (before importing distributed)

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def inc(x):
    return x + 1


def rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_by_kind() -> dict:
    """CPU seconds so far of this process (client + the LocalCluster's scheduler) and of its descendants (workers)."""
    import psutil

    me = psutil.Process()
    t = me.cpu_times()
    out = {"client": t.user + t.system, "workers": 0.0}
    for child in me.children(recursive=True):
        try:
            c = child.cpu_times()
            out["workers"] += c.user + c.system
        except psutil.Error:
            pass
    return out


def work(kwargs: dict, n: int, chain: int) -> dict:
    from distributed import Client, LocalCluster

    out: dict = {}
    with LocalCluster(**kwargs) as cluster, Client(cluster) as client:
        # warm-up: every worker has run something and the function is known
        assert client.gather(client.map(inc, range(20), pure=False)) == list(range(1, 21))

        cpu_before = cpu_by_kind()
        t = time.perf_counter()
        futs = client.map(inc, range(n), pure=False)
        t_submitted = time.perf_counter()
        results = client.gather(futs)
        t_done = time.perf_counter()
        cpu_after = cpu_by_kind()
        out.update({f"cpu_{k}": cpu_after[k] - cpu_before[k] for k in cpu_after})
        assert sum(results) == n * (n + 1) // 2
        out["throughput_s"] = t_done - t
        out["throughput_submit_s"] = t_submitted - t
        del futs, results

        t = time.perf_counter()
        f = client.submit(inc, 0, pure=False)
        for _ in range(chain - 1):
            f = client.submit(inc, f, pure=False)
        value = f.result()
        out["chain_s"] = time.perf_counter() - t
        assert value == chain
        del f
        out["rss_mib"] = rss_mib()
        out["peak_rss_mib"] = peak_rss_mib()
    return out


def startup(kwargs: dict) -> dict:
    t_import = time.perf_counter()
    from distributed import Client, LocalCluster

    t_imported = time.perf_counter()
    cluster = LocalCluster(**kwargs)
    client = Client(cluster)
    t_client = time.perf_counter()
    value = client.submit(inc, 1, pure=False).result()
    t_first = time.perf_counter()
    assert value == 2
    # Tell the parent at once (it measures spawn -> this line); teardown is not part of the figure.
    out = {
        "first_result_s": t_first - T_PROCESS,  # script start (before importing distributed) -> first result
        "import_s": t_imported - t_import,
        "cluster_client_s": t_client - t_imported,
        "submit_result_s": t_first - t_client,
    }
    print(json.dumps({"event": "first-result", **out}), flush=True)
    t = time.perf_counter()
    client.close()
    cluster.close()
    out["teardown_s"] = time.perf_counter() - t
    return out


def nap(i, seconds):
    time.sleep(seconds)
    return i


def total(values):
    return sum(values)


def fan(kwargs: dict, n: int, seconds: float, rounds: int) -> dict:
    """The fan-out/fan-in of bench/prefect-compare.ts (d), written directly against distributed: n naps, one total."""
    from distributed import Client, LocalCluster

    times = []
    with LocalCluster(**kwargs) as cluster, Client(cluster) as client:
        assert client.submit(total, client.map(nap, range(8), seconds=0, pure=False)).result() == 28  # warm-up
        for _ in range(rounds):
            t = time.perf_counter()
            naps = [client.submit(nap, i, seconds, pure=False) for i in range(n)]
            value = client.submit(total, naps, pure=False).result()
            times.append(time.perf_counter() - t)
            assert value == n * (n - 1) // 2
            del naps
    return {"fan_s": times}


def main() -> None:
    workload = sys.argv[1]
    kwargs = json.loads(sys.argv[2])
    if workload == "work":
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
        chain = int(sys.argv[4]) if len(sys.argv) > 4 else 50
        result = work(kwargs, n, chain)
    elif workload == "startup":
        result = startup(kwargs)
    elif workload == "fan":
        result = fan(kwargs, int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    else:
        raise SystemExit(f"unknown workload {workload!r} (work, startup, fan)")
    import distributed

    result["distributed"] = distributed.__version__
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
