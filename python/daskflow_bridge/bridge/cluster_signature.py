"""Which keyword arguments a cluster class accepts, read from its signature (issue 10 item 2).

Dask users write cluster classes as subclasses of LocalCluster with a narrower constructor, or classes of their own;
the bridge passes its own defaults (`host`, `dashboard_address`, `plugins`, `asynchronous`) only to constructors that
take them. A `**kwargs` is followed up the class's MRO, as `super().__init__(**kwargs)` forwards it; LocalCluster's
own `**worker_kwargs` go to its workers, so they take what `distributed.Worker` takes.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterator

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)

# How a keyword reaches a constructor.
EXPLICIT = "explicit"  # a named parameter somewhere along the chain
WORKERS = "workers"  # LocalCluster's **worker_kwargs: handed to every worker it starts


def _inits(target: Any) -> Iterator[Callable[..., Any]]:
    """The constructors a keyword passes through: the class's own __init__, then each base's, in MRO order."""
    if not isinstance(target, type):
        yield target  # a factory function: its own signature is all we can read
        return
    for klass in target.__mro__:
        if klass is object:
            return
        if "__init__" in klass.__dict__:
            yield klass.__dict__["__init__"]


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin or C extension without a signature
        return None


def accepts(target: Any, name: str) -> str | None:
    """How `target(**{name: ...})` would take the keyword: EXPLICIT, WORKERS, or None when it would not."""
    from distributed import LocalCluster, Worker

    forwarded = False
    for init in _inits(target):
        sig = _signature(init)
        if sig is None:
            return None
        params = sig.parameters
        if name in params and params[name].kind in _NAMED:
            return EXPLICIT
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return None
        forwarded = True
        if init is LocalCluster.__dict__["__init__"]:
            worker = _signature(Worker.__init__)
            return WORKERS if worker is not None and name in worker.parameters else None
    # The chain ends in a **kwargs that goes nowhere we can read (a factory function, a class of its own): it takes
    # any keyword.
    return EXPLICIT if forwarded else None
