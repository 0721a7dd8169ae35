"""The raw-Dask side of bench/multihost.ts: 2,000 trivial tasks with the official client alone, on the running
two-namespace cluster at ADDRESS (the same cluster the daskflow side uses, rounds alternating).

    .venv/bin/python bench/multihost_raw.py ADDRESS [N]

Prints one JSON object (times in seconds).
"""

from __future__ import annotations

import json
import sys
import time


def inc(x):  # defined in __main__: pickled by value, so the hosts need nothing of this repository
    return x + 1


def main(address: str, n: int) -> dict:
    from distributed import Client

    with Client(address, timeout=30) as client:
        # warm-up: every worker has run the function once
        assert client.gather(client.map(inc, range(20), pure=False)) == list(range(1, 21))
        # The parent reads the cluster's CPU time at these two lines (from /proc): the same window as ours.
        print(json.dumps({"event": "start"}), flush=True)
        cpu = time.process_time()
        t = time.perf_counter()
        futs = client.map(inc, range(n), pure=False)
        results = client.gather(futs)
        elapsed = time.perf_counter() - t
        cpu = time.process_time() - cpu
        print(json.dumps({"event": "end"}), flush=True)
        assert sum(results) == n * (n + 1) // 2
        workers = sorted({ws for ws in client.who_has(futs).values() for ws in ws})
    return {"throughput_s": elapsed, "cpu_client_s": cpu, "workers": workers}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000)), flush=True)
