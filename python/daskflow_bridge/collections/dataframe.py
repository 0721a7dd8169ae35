"""DataFrame plans from TypeScript (src/dask/collections/dataframe/), evaluated by dask.dataframe on the cluster.

``run(action, plan, args, client)``: ``compute`` evaluates the plan's root — a frame gives rows, a reduction a
record, ``length`` a number; the output nodes ``to_arrow``, ``to_parquet`` and ``to_csv`` give Arrow IPC bytes or
the files written. ``persist`` keeps a frame's partitions on the cluster as a published dataset and answers with
the plan that reads it. Operations come from the fixed tables of dataframe_plan.py and dataframe_expr.py.
"""

from __future__ import annotations

import glob
import os
from typing import Any

from .dataframe_errors import DataFrameError, DataFrameSetupError, require, setup_error

OUTPUTS = ("to_arrow", "to_parquet", "to_csv")


async def _compute(client: Any, collection: Any) -> Any:
    """The computed value; a list of collections (to_csv's writes) gives a list."""
    futures = client.compute(collection)
    try:
        return await client.gather(futures)
    except ModuleNotFoundError as exc:  # a worker without pandas/pyarrow
        raise setup_error(exc, "a Dask worker's Python") from None
    finally:
        for f in futures if isinstance(futures, list) else [futures]:
            f.release()


async def _output(node: dict, client: Any) -> Any:
    from . import dataframe_encode as enc
    from .dataframe_plan import build

    op, frame = node["op"], await build(node["input"], client)
    if op == "to_arrow":
        return enc.arrow_ipc(await _compute(client, frame))
    path = node["path"]
    if not isinstance(path, str) or not path:
        raise DataFrameError(f"{op}: give a path, got {path!r}")
    if op == "to_parquet":
        await _compute(client, frame.to_parquet(path, write_index=False, compute=False))
        return sorted(glob.glob(os.path.join(path, "*.parquet")))
    # to_csv: one file per partition; "*" in the name stands for the partition number.
    target = path if "*" in path else os.path.join(path, "part-*.csv")
    if "*" not in path:
        os.makedirs(path, exist_ok=True)
    written = frame.to_csv(target, index=False, compute=False)
    await _compute(client, written)
    return sorted(glob.glob(target))


async def run(action: str, plan: Any, args: dict[str, Any], client: Any) -> Any:
    require()
    from . import dataframe_encode as enc
    from .dataframe_plan import build

    if not isinstance(plan, dict):
        raise DataFrameError(f"a DataFrame plan must be a map, got {type(plan).__name__}")
    if action == "compute":
        if plan.get("op") in OUTPUTS:
            return await _output(plan, client)
        return enc.to_wire(await _compute(client, await build(plan, client)))
    if action == "persist":
        import dask.dataframe as dd

        frame = await build(plan, client)
        if not isinstance(frame, dd.DataFrame):
            raise DataFrameError(f"persist(): only a DataFrame can be persisted, got a {type(frame).__name__}")
        name = args["name"]
        await client.publish_dataset(client.persist(frame), name=name)
        return {"op": "dataset", "name": name}
    raise DataFrameError(f"unknown DataFrame action {action!r}; expected compute or persist")


__all__ = ["run", "DataFrameError", "DataFrameSetupError"]
