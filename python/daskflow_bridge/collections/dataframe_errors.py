"""Errors of DataFrame plans; their class names reach TypeScript as `error.name`."""

from __future__ import annotations

import sys

SETUP_COMMAND = "npx daskflow setup --with dataframe"


class DataFrameError(ValueError):
    """A plan that cannot be evaluated: unknown column, wrong type, unknown operation; the message says which."""


class DataFrameSetupError(ImportError):
    """The bridge's (or a worker's) Python lacks pandas, pyarrow or dask.dataframe."""


def setup_error(exc: ImportError, where: str = "the bridge's Python") -> DataFrameSetupError:
    missing = getattr(exc, "name", None) or str(exc)
    return DataFrameSetupError(
        f"DataFrame needs pandas and pyarrow, but {where} ({sys.executable}) cannot import {missing!r}. "
        f"Run `{SETUP_COMMAND}` in your project (in the daskflow repository: `bash scripts/setup-python.sh`), "
        "or install the pins of python/requirements-dataframe.lock into the workers' environment."
    )


def require() -> None:
    """Imports what a DataFrame plan needs, or raises the setup error naming the command that installs it."""
    try:
        import dask.dataframe  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise setup_error(exc) from None
