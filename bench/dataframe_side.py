"""The Python side of bench/dataframe-groupby.ts and bench/dataframe-arrow.ts. Prints one JSON line.
  python bench/dataframe_side.py gen DIR ROWS PARTITIONS      # write the generated Parquet dataset (not timed)
  python bench/dataframe_side.py groupby DIR ROUNDS WORKERS   # the same dask.dataframe groupby as the TS side
  python bench/dataframe_side.py gather DIR ROUNDS WORKERS    # the floor of toArrow(): the frame gathered into Python
"""

import json
import os
import sys
import time

import numpy as np
import pandas as pd


def generate(path: str, rows: int, partitions: int) -> None:
    """Deterministic rows: 1,000 string keys (skewed), a float value, a small int quantity, a timestamp."""
    os.makedirs(path, exist_ok=True)
    rng = np.random.default_rng(42)
    keys = np.array([f"k{i:04d}" for i in range(1000)])
    per = -(-rows // partitions)
    for p in range(partitions):
        n = min(per, rows - p * per)
        start = p * per
        frame = pd.DataFrame({
            "id": np.arange(start, start + n, dtype="int64"),
            "key": keys[(rng.random(n) ** 2 * len(keys)).astype("int64")],
            "value": rng.random(n) * 100,
            "qty": rng.integers(1, 10, n, dtype="int64"),
            "at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s"),
        })
        frame.to_parquet(os.path.join(path, f"part-{p:03d}.parquet"), index=False)
    print(json.dumps({"rows": rows, "partitions": partitions}))


def timed(path: str, rounds: int, workers: int, work) -> None:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        seconds, result = [], None
        for i in range(rounds + 1):
            t0 = time.perf_counter()
            result = work(client, path)
            if i:  # round 0 warms the workers (imports, first reads), as the TypeScript side does
                seconds.append(time.perf_counter() - t0)
        print(json.dumps({"seconds": seconds, **result}))


def groupby(client, path: str) -> dict:
    import dask.dataframe as dd

    df = dd.read_parquet(path)
    out = df.groupby("key", sort=True).agg(total=("value", "sum"), avg=("value", "mean"), n=("qty", "count"), split_out=1).reset_index()
    frame = out.compute()
    return {"groups": len(frame), "n": int(frame["n"].sum())}


def gather(client, path: str) -> dict:
    import dask.dataframe as dd

    frame = dd.read_parquet(path).compute()
    return {"rows": len(frame)}


if __name__ == "__main__":
    command, path = sys.argv[1], sys.argv[2]
    if command == "gen":
        generate(path, int(sys.argv[3]), int(sys.argv[4]))
    else:
        timed(path, int(sys.argv[3]), int(sys.argv[4]), {"groupby": groupby, "gather": gather}[command])
