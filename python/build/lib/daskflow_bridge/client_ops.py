"""What `getDaskClient()` does on the cluster for a TypeScript caller: call a Python function by import path, or
evaluate a Python expression that builds a Dask collection and compute it. Results come back as MessagePack data."""

from __future__ import annotations

import importlib
from typing import Any


class NotSendableError(TypeError):
    """A result that has no MessagePack form; the message says how to convert it."""


def import_callable(path: str):
    if not isinstance(path, str) or "." not in path:
        raise ValueError(f"a callable must be given by import path like 'operator.add', got {path!r}")
    module, _, name = path.rpartition(".")
    try:
        target = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"cannot import {path!r}: {exc}") from exc
    if not callable(target):
        raise TypeError(f"{path!r} is not callable")
    return target


def to_wire(value: Any) -> Any:
    """Plain data for MessagePack: numpy and pandas values become lists and dicts."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (int, str)) else k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_wire(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and type(value).__name__ == "DataFrame":
        return to_wire(to_dict(orient="list"))
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return to_wire(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return to_wire(item())
    raise NotSendableError(
        f"a result of type {type(value).__module__}.{type(value).__name__} cannot be sent to TypeScript; "
        "return plain data (numbers, strings, lists, dicts) or a numpy/pandas value"
    )


async def call(client, path: str, args: list, kwargs: dict) -> Any:
    fn = import_callable(path)
    future = client.submit(fn, *args, pure=False, **kwargs)
    try:
        return to_wire(await future)
    finally:
        future.release()


async def compute(client, expression: str) -> Any:
    """Evaluates `expression` with `dask` (and its bag/array/dataframe modules when installed) in scope; computes
    a Dask collection on the cluster; returns the value."""
    import dask

    scope: dict[str, Any] = {"dask": dask}
    for alias, module in (("db", "dask.bag"), ("da", "dask.array"), ("dd", "dask.dataframe")):
        try:
            scope[alias] = importlib.import_module(module)
        except ImportError:
            pass
    value = eval(compile(expression, "<daskflow compute>", "eval"), scope)  # noqa: S307 - the caller's own code
    if dask.is_dask_collection(value):
        future = client.compute(value)
        try:
            value = await future
        finally:
            future.release()
    return to_wire(value)
