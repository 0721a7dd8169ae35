"""Expressions of a DataFrame plan (src/dask/collections/dataframe/expr.ts), evaluated against a dask DataFrame.

An expression is ``{"col": name}``, ``{"lit": value}`` or ``{"fn": name, "args": [expr or option, ...]}`` where
``name`` is a key of FUNCTIONS: a fixed table, each entry checking the kinds of its operands (from the frame's
meta, so a wrong type is an error before anything runs) and applying one pandas/dask operation.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import pandas as pd
from pandas.api import types as pdt

from .dataframe_errors import DataFrameError

# Dtype names a plan may use (astype, cast), to pandas dtypes; nothing else is accepted.
DTYPES: dict[str, Any] = {
    "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
    "float32": "float32", "float64": "float64",
    "Int64": "Int64",  # nullable integers
    "bool": "bool", "boolean": "boolean",
    "string": "string", "category": "category",
    "datetime": "datetime64[ns]",
}


def dtype_of(name: Any, where: str) -> Any:
    if not isinstance(name, str) or name not in DTYPES:
        raise DataFrameError(f"{where}: unknown dtype {name!r}; use one of {', '.join(DTYPES)}")
    return DTYPES[name]


def literal(value: Any) -> Any:
    """A plan literal: plain values as they are, dates as ``{"date": ms}``, big integers as ``{"bigint": "digits"}``."""
    if isinstance(value, dict):
        if set(value) == {"date"}:
            return pd.Timestamp(value["date"], unit="ms")
        if set(value) == {"bigint"}:
            return int(value["bigint"])
        raise DataFrameError(f"unknown literal {value!r}")
    if isinstance(value, list):
        return [literal(v) for v in value]
    return value


def kind(value: Any) -> str:
    """'numeric', 'boolean', 'string', 'datetime', 'null' or 'other', of a dask Series (its dtype) or a literal."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, (int, float)):
            return "numeric"
        if isinstance(value, str):
            return "string"
        if isinstance(value, pd.Timestamp):
            return "datetime"
        return "other"
    if pdt.is_bool_dtype(dtype):
        return "boolean"
    if pdt.is_numeric_dtype(dtype):
        return "numeric"
    if pdt.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pdt.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "string"
    return "other"


def _describe(expr: Any) -> str:
    if "col" in expr:
        return f"col({expr['col']!r})"
    if "lit" in expr:
        return f"lit({expr['lit']!r})"
    return f"{expr.get('fn')}(...)"


# ----------------------------------------------------------------------------------------------- the table
# Each entry: (operand kinds allowed, one set per operand or None for any; implementation). Options (not
# expressions: patterns, digits, value lists) follow the operands in "args" and are passed on as they are.

NUM = {"numeric", "boolean", "null"}
ORDERED = ({"numeric", "null"}, {"string", "null"}, {"datetime", "null"})
BOOL = {"boolean", "null"}
STR = {"string", "null"}
DT = {"datetime", "null"}


def _binary(op: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    return lambda a, b: op(a, b)


def _str(method: str, *fixed: Any) -> Callable[..., Any]:
    return lambda s, *opts: getattr(s.str, method)(*opts, *fixed)


def _dt(attr: str) -> Callable[..., Any]:
    return lambda s: getattr(s.dt, attr)


def _contains(s: Any, pattern: str) -> Any:
    return s.str.contains(pattern, regex=False)  # literal text: a pattern is never compiled as a regex


def _replace(s: Any, old: str, new: str) -> Any:
    return s.str.replace(old, new, regex=False)


def _slice(s: Any, start: Any, stop: Any) -> Any:
    return s.str.slice(start, stop)


def _round(s: Any, digits: int) -> Any:
    return s.round(digits)


def _isin(s: Any, values: list) -> Any:
    return s.isin(literal(values))


def _fill_null(s: Any, value: Any) -> Any:
    return s.fillna(literal(value))


def _cast(s: Any, dtype: str) -> Any:
    return s.astype(dtype_of(dtype, "cast()"))


FUNCTIONS: dict[str, tuple[tuple[Any, ...], int, Callable[..., Any]]] = {
    # name: (kinds of each expression operand, number of options after them, implementation)
    "add": ((NUM | STR, NUM | STR), 0, _binary(operator.add)),
    "sub": ((NUM | DT, NUM | DT), 0, _binary(operator.sub)),
    "mul": ((NUM, NUM), 0, _binary(operator.mul)),
    "div": ((NUM, NUM), 0, _binary(operator.truediv)),
    "floordiv": ((NUM, NUM), 0, _binary(operator.floordiv)),
    "mod": ((NUM, NUM), 0, _binary(operator.mod)),
    "pow": ((NUM, NUM), 0, _binary(operator.pow)),
    "neg": ((NUM,), 0, operator.neg),
    "abs": ((NUM,), 0, abs),
    "round": ((NUM,), 1, _round),
    "eq": ((None, None), 0, _binary(operator.eq)),
    "ne": ((None, None), 0, _binary(operator.ne)),
    "lt": (ORDERED, 0, _binary(operator.lt)),
    "le": (ORDERED, 0, _binary(operator.le)),
    "gt": (ORDERED, 0, _binary(operator.gt)),
    "ge": (ORDERED, 0, _binary(operator.ge)),
    "and": ((BOOL, BOOL), 0, _binary(operator.and_)),
    "or": ((BOOL, BOOL), 0, _binary(operator.or_)),
    "xor": ((BOOL, BOOL), 0, _binary(operator.xor)),
    "not": ((BOOL,), 0, operator.invert),
    "isin": ((None,), 1, _isin),
    "is_null": ((None,), 0, lambda s: s.isnull()),
    "not_null": ((None,), 0, lambda s: s.notnull()),
    "fill_null": ((None,), 1, _fill_null),
    "cast": ((None,), 1, _cast),
    "str.lower": ((STR,), 0, _str("lower")),
    "str.upper": ((STR,), 0, _str("upper")),
    "str.strip": ((STR,), 0, _str("strip")),
    "str.len": ((STR,), 0, _str("len")),
    "str.contains": ((STR,), 1, _contains),
    "str.startswith": ((STR,), 1, _str("startswith")),
    "str.endswith": ((STR,), 1, _str("endswith")),
    "str.replace": ((STR,), 2, _replace),
    "str.slice": ((STR,), 2, _slice),
    "dt.year": ((DT,), 0, _dt("year")),
    "dt.month": ((DT,), 0, _dt("month")),
    "dt.day": ((DT,), 0, _dt("day")),
    "dt.hour": ((DT,), 0, _dt("hour")),
    "dt.minute": ((DT,), 0, _dt("minute")),
    "dt.second": ((DT,), 0, _dt("second")),
    "dt.weekday": ((DT,), 0, _dt("weekday")),
    "dt.dayofyear": ((DT,), 0, _dt("dayofyear")),
    "dt.date": ((DT,), 0, lambda s: s.dt.normalize()),
}

_WORDS = {frozenset(NUM): "numbers", frozenset(NUM | STR): "numbers or strings", frozenset(NUM | DT): "numbers or datetimes",
          frozenset(BOOL): "booleans", frozenset(STR): "strings", frozenset(DT): "datetimes"}

# Two-operand functions whose kinds must also agree with each other (one of the sets for both operands).
_SAME_KIND = {"lt", "le", "gt", "ge"}


def evaluate(expr: Any, frame: Any, where: str) -> Any:
    """The dask Series (or a plain value, for literals) that ``expr`` stands for in ``frame``."""
    if not isinstance(expr, dict):
        raise DataFrameError(f"{where}: an expression must be col(...), lit(...) or a function of them, got {expr!r}")
    if "col" in expr:
        name = expr["col"]
        if name not in frame.columns:
            raise DataFrameError(f"{where}: no column {name!r}; the columns are {', '.join(map(repr, frame.columns))}")
        return frame[name]
    if "lit" in expr:
        return literal(expr["lit"])
    name, args = expr.get("fn"), expr.get("args") or []
    entry = FUNCTIONS.get(name)
    if entry is None:
        raise DataFrameError(f"{where}: unknown function {name!r}; the functions are {', '.join(FUNCTIONS)}")
    kinds, n_options, impl = entry
    n_operands = len(kinds) if name not in _SAME_KIND else 2
    if len(args) != n_operands + n_options:
        raise DataFrameError(f"{where}: {name} takes {n_operands} operand(s) and {n_options} option(s), got {len(args)}")
    operands = [evaluate(a, frame, where) for a in args[:n_operands]]
    options = args[n_operands:]
    found = [kind(v) for v in operands]
    if name in _SAME_KIND:
        if not any(all(k in allowed for k in found) for allowed in kinds):
            raise _type_error(where, name, args[:n_operands], found, "operands of the same orderable kind (numbers, strings or datetimes)")
    else:
        for allowed, k, a in zip(kinds, found, args):
            if allowed is not None and k not in allowed:
                raise _type_error(where, name, [a], [k], _WORDS[frozenset(allowed)])
        if name == "add" and "string" in found and not set(found) <= {"string", "null"}:
            raise _type_error(where, name, args[:n_operands], found, "two numbers or two strings")
    try:
        return impl(*operands, *options)
    except (TypeError, ValueError) as exc:
        raise DataFrameError(f"{where}: {name} of {', '.join(_describe(a) for a in args[:n_operands])} failed: {exc}") from None


def _type_error(where: str, name: str, args: list, found: list[str], wanted: str) -> DataFrameError:
    got = ", ".join(f"{_describe(a)} is {k}" for a, k in zip(args, found))
    return DataFrameError(f"{where}: {name} needs {wanted}; {got}")
