"""Concurrency limits held on the Dask scheduler with distributed's own Semaphore (slots.py)."""

from .slots import Slots

__all__ = ["Slots"]
