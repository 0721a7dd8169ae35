"""Computed pandas values to what TypeScript receives: rows (MessagePack maps), a record, a scalar, or Arrow IPC.

Conversions are deliberate, per column dtype: NaN/None/NA/NaT → null (nil), datetimes → MessagePack timestamps
(JavaScript Dates, UTC), timedeltas → milliseconds, integers beyond ±(2^53 − 1) → an error (a JavaScript number
would round them; Arrow keeps them exact). The index is never sent: plans move a meaningful index (groupby keys,
describe's statistics) into columns before this point.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import msgpack
import numpy as np
import pandas as pd
from pandas.api import types as pdt

from .dataframe_errors import DataFrameError

MAX_SAFE = 2**53 - 1


def _too_big(column: str, value: int) -> DataFrameError:
    return DataFrameError(
        f"column {column!r} holds the integer {value}, beyond ±(2^53 - 1): a JavaScript number would round it. "
        f"Use toArrow() (64-bit integers stay exact, as bigint), or astype({{ {column}: 'float64' }}) or 'string'."
    )


def _timestamp(value: Any) -> msgpack.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return msgpack.Timestamp.from_unix_nano(int(ts.value))


def _scalar(value: Any, column: str) -> Any:
    """One value of an object/mixed column (or a reduction) as plain data."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        value = int(value)
        if abs(value) > MAX_SAFE:
            raise _too_big(column, value)
        return value
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (pd.Timestamp, datetime.datetime, np.datetime64)):
        return _timestamp(value)
    if isinstance(value, (pd.Timedelta, datetime.timedelta, np.timedelta64)):
        return pd.Timedelta(value).value / 1e6
    if isinstance(value, bytes):
        return value
    raise DataFrameError(
        f"column {column!r} holds a {type(value).__module__}.{type(value).__name__}, which has no JavaScript form; "
        "convert it with astype() first"
    )


def column_values(series: pd.Series, column: str) -> list[Any]:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series, dtype = series.astype(object), np.dtype(object)
    if pdt.is_datetime64_any_dtype(dtype):
        if getattr(dtype, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = series.to_numpy(dtype="datetime64[ns]").view("int64")
        nat = series.isna().to_numpy()
        return [None if n else msgpack.Timestamp.from_unix_nano(int(v)) for v, n in zip(ns.tolist(), nat)]
    if pdt.is_timedelta64_dtype(dtype):
        return [None if pd.isna(v) else pd.Timedelta(v).value / 1e6 for v in series]
    if pdt.is_bool_dtype(dtype):
        return [None if v is pd.NA else bool(v) for v in series.tolist()]
    if pdt.is_integer_dtype(dtype):
        values = series.tolist()
        for v in values:
            if v is not None and v is not pd.NA and abs(v) > MAX_SAFE:
                raise _too_big(column, v)
        return [None if v is pd.NA else v for v in values]
    if pdt.is_float_dtype(dtype):
        return [None if v != v else v for v in series.to_numpy(dtype="float64", na_value=np.nan).tolist()]
    return [_scalar(v, column) for v in series.tolist()]


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise DataFrameError(f"the result has duplicate column names {names}; rename them first")
    columns = [column_values(frame.iloc[:, i], names[i]) for i in range(len(names))]
    return [dict(zip(names, values)) for values in zip(*columns)] if columns else [{} for _ in range(len(frame))]


def record(series: pd.Series) -> dict[str, Any]:
    return {str(k): _scalar(v, str(k)) for k, v in series.items()}


def to_wire(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return rows(value)
    if isinstance(value, pd.Series):
        return record(value)
    return _scalar(value, "result")


def arrow_ipc(frame: pd.DataFrame) -> memoryview:
    """The frame as an Arrow IPC stream (int64 stays int64; strings, timestamps and nulls as Arrow has them)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return memoryview(sink.getvalue())
