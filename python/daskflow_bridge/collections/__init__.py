"""Builders that turn a collection plan made in TypeScript (src/dask/collections/collection.ts) into a Dask collection.

One module per kind (``bag``, ``dataframe``), each with ``build(plan, ctx)``; nothing is evaluated from text: a plan
names operations from a fixed table.
"""

from __future__ import annotations

import importlib
from typing import Any

KINDS = ("bag", "dataframe")


def builder(kind: str) -> Any:
    """The module that builds collections of ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"unknown collection kind {kind!r}; expected one of {', '.join(KINDS)}")
    return importlib.import_module(f"{__name__}.{kind}")
