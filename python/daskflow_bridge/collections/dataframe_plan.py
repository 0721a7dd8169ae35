"""A DataFrame plan (src/dask/collections/dataframe/plan.ts) made into a dask.dataframe collection.

A plan is a tree of nodes ``{"op": name, "input": node, ...}``; OPS is the fixed table of what a node may be. Each
operation checks column names and kinds against the frame's meta first, so a bad plan fails with a message naming
the operation and the column before anything runs on the cluster.
"""

from __future__ import annotations

from typing import Any, Callable

import dask
import dask.dataframe as dd
import pandas as pd

from .dataframe_errors import DataFrameError
from .dataframe_expr import dtype_of, evaluate, kind, literal

AGGREGATIONS = ("sum", "mean", "count", "min", "max", "nunique")
REDUCTIONS = ("sum", "mean", "count", "min", "max", "nunique")
HOWS = ("inner", "left", "right", "outer")
NUMERIC_ONLY = {"sum", "mean"}


def _columns(frame: Any, names: Any, where: str) -> list[str]:
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise DataFrameError(f"{where}: give column names (a string or a non-empty list of strings), got {names!r}")
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise DataFrameError(
            f"{where}: no column {', '.join(map(repr, missing))}; the columns are {', '.join(map(repr, frame.columns))}"
        )
    return names


def _numeric(frame: Any, names: list[str], where: str) -> None:
    for n in names:
        if kind(frame[n]) not in ("numeric", "boolean"):
            raise DataFrameError(f"{where}: column {n!r} is {frame[n].dtype}, not numeric")


# ------------------------------------------------------------------------------------------- sources

def _from_rows(node: dict) -> Any:
    data: dict[str, Any] = {}
    for column in node["columns"]:
        name, typ, values = column["name"], column["type"], column["values"]
        has_null = any(v is None for v in values)
        if typ == "int":
            data[name] = pd.array(values, dtype="Int64" if has_null else "int64")
        elif typ == "bigint":
            ints = [None if v is None else int(v) for v in values]
            if any(v is not None and not -(2**63) <= v < 2**63 for v in ints):
                raise DataFrameError(f"fromRows(): column {name!r} has an integer outside the int64 range")
            data[name] = pd.array(ints, dtype="Int64" if has_null else "int64")
        elif typ == "float":
            data[name] = pd.array([float("nan") if v is None else v for v in values], dtype="float64")
        elif typ == "boolean":
            data[name] = pd.array(values, dtype="boolean" if has_null else "bool")
        elif typ == "string":
            data[name] = pd.array(values, dtype="string")
        elif typ == "datetime":
            data[name] = pd.to_datetime(pd.array(values, dtype="Float64"), unit="ms")
        elif typ == "null":
            data[name] = pd.array(values, dtype="object")
        else:
            raise DataFrameError(f"fromRows(): column {name!r} has unknown type {typ!r}")
    frame = pd.DataFrame(data, index=pd.RangeIndex(node.get("nrows", 0)) if not data else None)
    npartitions = node.get("npartitions", 1)
    if not isinstance(npartitions, int) or npartitions < 1:
        raise DataFrameError(f"fromRows(): npartitions must be a positive integer, got {npartitions!r}")
    return dd.from_pandas(frame, npartitions=npartitions, sort=False)


def _read_options(node: dict, allowed: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (node.get("options") or {}).items():
        if key not in allowed:
            raise DataFrameError(f"{node['op']}: unknown option {key!r}; the options are {', '.join(allowed)}")
        if key == "dtype":
            value = {c: dtype_of(d, f"{node['op']} dtype of {c!r}") for c, d in value.items()}
        out[allowed[key]] = value
    return out


def _read(reader: Callable[..., Any], allowed: dict[str, str], **fixed: Any) -> Callable[[dict], Any]:
    def read(node: dict) -> Any:
        options = _read_options(node, allowed)
        try:
            # Readers may look at the first block for the columns with dask.compute (read_json does): that runs
            # here, on the local synchronous scheduler, not through the bridge's asynchronous client.
            with dask.config.set(scheduler="synchronous"):
                return reader(node["paths"], **fixed, **options)
        except (FileNotFoundError, OSError) as exc:
            raise DataFrameError(f"{node['op']}: cannot read {node['paths']!r}: {exc}") from None
    return read


SOURCES: dict[str, Callable[[dict], Any]] = {
    "from_rows": _from_rows,
    "read_csv": _read(dd.read_csv, {"sep": "sep", "columns": "usecols", "dtype": "dtype", "parseDates": "parse_dates",
                                    "blocksize": "blocksize", "header": "header"}),
    "read_parquet": _read(dd.read_parquet, {"columns": "columns"}),
    "read_json": _read(dd.read_json, {"blocksize": "blocksize", "dtype": "dtype"}, lines=True, orient="records"),
}


# ------------------------------------------------------------------------------------------- operations

def _select(df: Any, node: dict) -> Any:
    return df[_columns(df, node["columns"], "select()")]


def _filter(df: Any, node: dict) -> Any:
    mask = evaluate(node["expr"], df, "filter()")
    if kind(mask) != "boolean" or not hasattr(mask, "dtype"):
        raise DataFrameError(f"filter(): the condition must be a boolean column expression, got {kind(mask)}")
    # A condition that is missing for a row (a comparison with a missing value) drops it, as in SQL.
    return df[mask.fillna(False)]


def _assign(df: Any, node: dict) -> Any:
    for name, expr in node["columns"]:
        df = df.assign(**{name: evaluate(expr, df, f"assign({name!r})")})
    return df


def _drop(df: Any, node: dict) -> Any:
    return df.drop(columns=_columns(df, node["columns"], "drop()"))


def _rename(df: Any, node: dict) -> Any:
    mapping = node["columns"]
    _columns(df, list(mapping), "rename()")
    return df.rename(columns=mapping)


def _nunique_chunk(s: Any) -> Any:
    return s.agg(lambda x: frozenset(x.dropna()))


def _nunique_combine(s: Any) -> Any:
    return s.agg(lambda sets: frozenset().union(*sets))


def _nunique_finalize(s: Any) -> Any:
    return s.map(len)


# groupby().agg() of dask has no "nunique"; sets of distinct values per group, merged, then counted.
NUNIQUE = dd.Aggregation("nunique", _nunique_chunk, _nunique_combine, _nunique_finalize)


def _groupby_agg(df: Any, node: dict) -> Any:
    keys = _columns(df, node["keys"], "groupBy()")
    spec: dict[str, tuple[str, Any]] = {}
    for out, column, how in node["aggs"]:
        where = f"groupBy().agg({out!r})"
        if how not in AGGREGATIONS:
            raise DataFrameError(f"{where}: unknown aggregation {how!r}; use one of {', '.join(AGGREGATIONS)}")
        _columns(df, [column], where)
        if how in NUMERIC_ONLY:
            _numeric(df, [column], where)
        if out in keys:
            raise DataFrameError(f"{where}: {out!r} is also a key column; name the aggregate differently")
        spec[out] = (column, NUNIQUE if how == "nunique" else how)
    if not spec:
        raise DataFrameError("groupBy().agg(): give at least one aggregate, e.g. { total: ['price', 'sum'] }")
    grouped = df.groupby(keys, sort=True, dropna=node.get("dropna", True))
    # One output partition, sorted by the keys: rows come back in key order, the keys as columns.
    return grouped.agg(split_out=1, **spec).reset_index()


def _merge(df: Any, node: dict, right: Any) -> Any:
    on = node["on"]
    _columns(df, on, "merge() left")
    _columns(right, on, "merge() right")
    how = node.get("how", "inner")
    if how not in HOWS:
        raise DataFrameError(f"merge(): how must be one of {', '.join(HOWS)}, got {how!r}")
    return dd.merge(df, right, on=on, how=how, suffixes=tuple(node.get("suffixes") or ("_x", "_y")))


def _sort_values(df: Any, node: dict) -> Any:
    by = _columns(df, node["by"], "sortValues()")
    ascending = node.get("ascending", True)
    if isinstance(ascending, list) and len(ascending) != len(by):
        raise DataFrameError(f"sortValues(): {len(by)} columns but {len(ascending)} ascending flags")
    return df.sort_values(by, ascending=ascending)


def _head(df: Any, node: dict) -> Any:
    n = node["n"]
    if not isinstance(n, int) or n < 0:
        raise DataFrameError(f"head(): n must be a non-negative integer, got {n!r}")
    return df.head(n, npartitions=-1, compute=False)


def _describe_frame(df: Any, node: dict) -> Any:
    if not any(kind(df[c]) == "numeric" for c in df.columns):
        raise DataFrameError("describe(): the frame has no numeric column")
    return df.describe().reset_index().rename(columns={"index": "statistic"})


def _sorted_counts(part: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return part.sort_values(["count", *keys], ascending=[False] + [True] * len(keys), ignore_index=True)


def _value_counts(df: Any, node: dict) -> Any:
    keys = _columns(df, node["columns"], "valueCounts()")
    if "count" in keys:
        raise DataFrameError("valueCounts(): a counted column may not be named 'count'; rename it first")
    counts = df.groupby(keys, dropna=node.get("dropna", True)).size(split_out=1).rename("count").reset_index()
    # Most frequent first, ties by value: the one partition is sorted where it lies.
    return counts.map_partitions(_sorted_counts, keys, meta=counts._meta)


def _drop_duplicates(df: Any, node: dict) -> Any:
    subset = _columns(df, node["subset"], "dropDuplicates()") if node.get("subset") else None
    return df.drop_duplicates(subset=subset, split_out=1)


def _dropna(df: Any, node: dict) -> Any:
    subset = _columns(df, node["subset"], "dropna()") if node.get("subset") else None
    how = node.get("how", "any")
    if how not in ("any", "all"):
        raise DataFrameError(f"dropna(): how must be 'any' or 'all', got {how!r}")
    return df.dropna(subset=subset, how=how)


def _fillna(df: Any, node: dict) -> Any:
    value = node["value"]
    if isinstance(value, dict) and set(value) not in ({"date"}, {"bigint"}):
        _columns(df, list(value), "fillna()")
        return df.fillna({c: literal(v) for c, v in value.items()})
    return df.fillna(literal(value))


def _astype(df: Any, node: dict) -> Any:
    mapping = node["dtypes"]
    _columns(df, list(mapping), "astype()")
    return df.astype({c: dtype_of(d, f"astype() of {c!r}") for c, d in mapping.items()})


def _reduce(df: Any, node: dict) -> Any:
    how = node["how"]
    if how not in REDUCTIONS:
        raise DataFrameError(f"unknown reduction {how!r}; use one of {', '.join(REDUCTIONS)}")
    if how in NUMERIC_ONLY:
        _numeric(df, list(df.columns), f"{how}()")
    return getattr(df, how)()


def _length(df: Any, node: dict) -> Any:
    return df.shape[0]


FRAME_OPS: dict[str, Callable[[Any, dict], Any]] = {
    "select": _select, "filter": _filter, "assign": _assign, "drop": _drop, "rename": _rename,
    "groupby_agg": _groupby_agg, "sort_values": _sort_values, "head": _head, "describe": _describe_frame,
    "value_counts": _value_counts, "drop_duplicates": _drop_duplicates, "dropna": _dropna, "fillna": _fillna,
    "astype": _astype, "reduce": _reduce, "length": _length,
}


async def build(node: Any, client: Any) -> Any:
    """The dask collection of ``node``: a DataFrame, a Series (reductions) or a Scalar (length)."""
    if not isinstance(node, dict) or not isinstance(node.get("op"), str):
        raise DataFrameError(f"a DataFrame plan node must be a map with an 'op', got {type(node).__name__}")
    op = node["op"]
    if op in SOURCES:
        return SOURCES[op](node)
    if op == "dataset":  # a frame persisted by client.persist(): its partitions stay on the cluster
        return await client.get_dataset(node["name"])
    if op == "merge":
        return _merge(await _frame(node["input"], client, op), node, await _frame(node["right"], client, op))
    if op in FRAME_OPS:
        return FRAME_OPS[op](await _frame(node["input"], client, op), node)
    raise DataFrameError(f"unknown DataFrame operation {op!r}")


async def _frame(node: Any, client: Any, op: str) -> Any:
    frame = await build(node, client)
    if not isinstance(frame, dd.DataFrame):
        raise DataFrameError(f"{op}: its input must be a DataFrame, got a {type(frame).__name__}")
    return frame
