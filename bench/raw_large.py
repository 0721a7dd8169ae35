"""The raw-Dask side of bench/large-values.ts: the same large values moved directly with distributed's own Client.

    .venv/bin/python bench/raw_large.py '<cluster kwargs JSON>' '<sizes in MiB JSON>' [<repeat> [<settle seconds>]]

For each size: a task returning that many bytes, gathered by the client ("to_client": ``future.result()``, through
the scheduler as Dask does by default; "to_client_direct": ``client.gather(future, direct=True)``, from the worker
itself, as daskflow's bridge gathers from a LocalCluster it made); and the same task on the first worker feeding a
task on the second that returns the length ("task_to_task"); and that with a ``str`` of as many characters
("str_task_to_task": no goal, it says what a string itself costs Dask, which pickles it on each side). Each figure
<repeat> times in a row (default 1), after a pause of <settle seconds> (default 0), as bench/large-values.ts does on
its side. Prints one JSON object: for each figure and size, the seconds of each time.
"""

from __future__ import annotations

import json
import sys
import time

MIB = 2**20


def make_bytes(mib: int) -> bytes:
    return b"\x07" * (mib * MIB)


def make_str(mib: int) -> str:
    return "x" * (mib * MIB)


def size_of(value: bytes | str) -> int:
    return len(value)


def main() -> None:
    from distributed import Client, LocalCluster

    kwargs = json.loads(sys.argv[1])
    sizes = json.loads(sys.argv[2])
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    settle = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    out: dict = {"to_client": {}, "to_client_direct": {}, "task_to_task": {}, "str_task_to_task": {}}
    with LocalCluster(**kwargs) as cluster, Client(cluster) as client:
        first, second = sorted(client.scheduler_info()["workers"])[:2]
        assert client.submit(size_of, client.submit(make_bytes, 0, workers=[first], pure=False), workers=[second], pure=False).result() == 0
        for mib in sizes:

            def to_client() -> None:
                value = client.submit(make_bytes, mib, pure=False).result()
                assert len(value) == mib * MIB

            def to_client_direct() -> None:
                value = client.gather(client.submit(make_bytes, mib, pure=False), direct=True)
                assert len(value) == mib * MIB

            def task_to_task(make=make_bytes) -> None:
                up = client.submit(make, mib, workers=[first], pure=False)
                assert client.submit(size_of, up, workers=[second], pure=False).result() == mib * MIB

            figures = (
                ("to_client", to_client),
                ("to_client_direct", to_client_direct),
                ("task_to_task", task_to_task),
                ("str_task_to_task", lambda: task_to_task(make_str)),
            )
            for figure, run in figures:
                time.sleep(settle)
                out[figure][mib] = []
                for _ in range(repeat):
                    t = time.perf_counter()
                    run()
                    out[figure][mib].append(time.perf_counter() - t)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
