"""A large result (a task's envelope, a Bag partition) as Dask holds and moves it, without the copy Dask makes of
plain ``bytes``: Dask's own deserializer for ``bytes`` joins the received frame into a new ``bytes`` object (a
100 MiB copy on every worker and client that receives it); a ``LargeValue`` keeps the received frame as it is.

Results of at least ``LARGE`` bytes are wrapped (worker/task.py, collections/bag.py); every daskflow channel writes
one as its bytes (framing.py). Dask measures it by its size, so memory limits and spilling see the real figure.
"""

from __future__ import annotations

from typing import Any

from dask.sizeof import sizeof
from distributed.protocol.serialize import dask_deserialize, dask_serialize

from .framing import Opaque

LARGE = 1 << 20


class LargeValue(Opaque):
    """Opaque bytes of one value; ``view`` is a flat memoryview of them."""

    __slots__ = ()

    def __init__(self, data: Any) -> None:
        self.view = memoryview(data).cast("B")

    def __len__(self) -> int:
        return self.view.nbytes

    def __bytes__(self) -> bytes:
        return self.view.tobytes()

    def __reduce__(self):  # plain pickle (not Dask's serializers): a copy, as pickle makes of bytes
        return (LargeValue, (self.view.tobytes(),))

    def __repr__(self) -> str:
        return f"<daskflow LargeValue {self.view.nbytes} bytes>"


def wrap(data: Any) -> Any:
    """``data`` as Dask should hold it: a LargeValue when it is bytes of at least LARGE."""
    if isinstance(data, (bytes, bytearray, memoryview)) and memoryview(data).nbytes >= LARGE:
        return LargeValue(data)
    return data


def unwrap(data: Any) -> Any:
    """The bytes of ``data`` (a view when it is a LargeValue)."""
    return data.view if isinstance(data, LargeValue) else data


@dask_serialize.register(LargeValue)
def _serialize(value: LargeValue) -> tuple[dict, list]:
    return {}, [value.view]


@dask_deserialize.register(LargeValue)
def _deserialize(header: dict, frames: list) -> LargeValue:
    return LargeValue(frames[0] if len(frames) == 1 else b"".join(frames))


@sizeof.register(LargeValue)
def _sizeof(value: LargeValue) -> int:
    return value.view.nbytes
