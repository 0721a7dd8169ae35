"""The Python side of bench/bag-wordcount.ts: the same word count with dask.bag on the same cluster shape.
Prints one JSON line {seconds: [...], distinct, total}. Usage: python bench/bag_wordcount.py FILE BLOCKSIZE ROUNDS WORKERS"""

import json
import sys
import time

import dask.bag as db
from distributed import Client, LocalCluster


def main() -> None:
    path, blocksize, rounds, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster, Client(cluster) as client:
        counts = None
        seconds = []
        for i in range(rounds + 1):
            t0 = time.perf_counter()
            counts = db.read_text(path, blocksize=blocksize).str.split().flatten().frequencies().compute()
            if i:  # the first round warms the workers (imports), as the TypeScript side does
                seconds.append(time.perf_counter() - t0)
        print(json.dumps({"seconds": seconds, "distinct": len(counts), "total": sum(n for _, n in counts)}))


if __name__ == "__main__":
    main()
