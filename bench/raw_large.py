"""The raw-Dask side of bench/large-values.ts: the same large values moved directly with distributed's own Client.

    .venv/bin/python bench/raw_large.py '<cluster kwargs JSON>' '<sizes in MiB JSON>'

For each size: a task returning that many bytes, gathered by the client ("to_client": ``future.result()``, through
the scheduler as Dask does by default; "to_client_direct": ``client.gather(future, direct=True)``, from the worker
itself, as daskflow's bridge gathers from a LocalCluster it made); and the same task on the first worker feeding a
task on the second that returns the length ("task_to_task"). Prints one JSON object (seconds).
"""

from __future__ import annotations

import json
import sys
import time

MIB = 2**20


def make_bytes(mib: int) -> bytes:
    return b"\x07" * (mib * MIB)


def size_of(value: bytes) -> int:
    return len(value)


def main() -> None:
    from distributed import Client, LocalCluster

    kwargs = json.loads(sys.argv[1])
    sizes = json.loads(sys.argv[2])
    out: dict = {"to_client": {}, "to_client_direct": {}, "task_to_task": {}}
    with LocalCluster(**kwargs) as cluster, Client(cluster) as client:
        first, second = sorted(client.scheduler_info()["workers"])[:2]
        assert client.submit(size_of, client.submit(make_bytes, 0, workers=[first], pure=False), workers=[second], pure=False).result() == 0
        for mib in sizes:
            t = time.perf_counter()
            value = client.submit(make_bytes, mib, pure=False).result()
            out["to_client"][mib] = time.perf_counter() - t
            assert len(value) == mib * MIB
            del value
            t = time.perf_counter()
            value = client.gather(client.submit(make_bytes, mib, pure=False), direct=True)
            out["to_client_direct"][mib] = time.perf_counter() - t
            assert len(value) == mib * MIB
            del value
            t = time.perf_counter()
            up = client.submit(make_bytes, mib, workers=[first], pure=False)
            n = client.submit(size_of, up, workers=[second], pure=False).result()
            out["task_to_task"][mib] = time.perf_counter() - t
            assert n == mib * MIB
            del up
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
