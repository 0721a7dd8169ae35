"""Bag: a plan made by TypeScript's ``Bag`` (src/dask/collections/bag/) turned into a Dask graph shaped as dask.bag
builds one: one task per partition, consecutive element-wise steps fused into that task, reductions as trees of
``split_every`` inputs, groupBy as a task shuffle. Every task hands its partition to a Node sidecar of the run on
its worker (``run_partition``): partitions are JavaScript values encoded by daskflow, opaque to Python.

Plan nodes (plain data; the functions inside ``steps`` are daskflow-encoded bytes the sidecar decodes):
``{op: "from_sequence", partitions: [bin]}``, ``{op: "read_text", paths, blocksize, compression}``,
``{op: "dataset", name, npartitions}``, ``{op: "steps", input, steps: [bin]}``,
``{op: "reduction", input, per: bin, agg: bin, split_every, out: "item" | "bag"}``,
``{op: "group_by", input, key: bin, npartitions}``. Nothing is evaluated from text here.
"""

from __future__ import annotations

import glob
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

SPLIT_EVERY = 8  # dask.bag's default fan-in of a reduction tree


class BagPlanError(ValueError):
    """A plan this builder cannot read (the message says which part)."""


# ---------------------------------------------------------------- on the worker


def run_partition(plugin_name: str, program: dict, *inputs: Any) -> Any:
    """One Bag task on a worker: the program runs in a Node sidecar of the run; returns its bytes (or, for a
    shuffle split, a list of bytes)."""
    from ..transfer.large_value import wrap
    from ..sidecar.pool import get_pool
    from ..transfer.protocol import OP_BAG, OP_BAG_DONE, ChannelClosed, ProtocolError

    pool = get_pool(plugin_name)
    sc = pool.borrow()
    try:
        sc.send({"op": OP_BAG, "program": program, "inputs": list(inputs)})
        while True:
            try:
                msg = sc.read(None)
            except ChannelClosed:
                raise RuntimeError(f"the Node sidecar running a Bag partition died: {_reason(sc)}") from None
            op = msg.get("op")
            if op == OP_BAG_DONE:
                if msg.get("ok"):
                    data = msg.get("data")  # large partitions as LargeValues: no copy when Dask moves them
                    return [wrap(d) for d in data] if isinstance(data, list) else wrap(data)
                err = msg.get("error") or {}
                raise BagFunctionError(err.get("name") or "Error", err.get("message") or "", err.get("stack") or "")
            if op == "event":
                continue
            raise ProtocolError(f"unexpected message {op!r} from the Node sidecar while running a Bag partition")
    except BaseException:
        pool._discard(sc, kill=True)
        sc = None
        raise
    finally:
        if sc is not None:
            pool.give_back(sc)


def collect_group(plugin_name: str, program: dict, index: int, *splits: list) -> Any:
    """The ``index``-th output partition of a shuffle: bucket ``index`` of every split, merged in a sidecar."""
    return run_partition(plugin_name, program, *[s[index] for s in splits])


def _reason(sc) -> str:
    sc.wait(1.0)
    return sc.exit_reason()


class BagFunctionError(Exception):
    """A function of a Bag threw in its sidecar; the name and message are the JavaScript error's."""

    def __init__(self, name: str, message: str, stack: str):
        super().__init__(f"{name}: {message}")
        self.js_name = name
        self.js_stack = stack


# ---------------------------------------------------------------- in the bridge: plan -> graph


@dataclass
class Part:
    """A partition not yet a task: its input (a key, bytes, or a text block) and the steps fused so far."""

    input: Any = None
    read: dict | None = None
    steps: list = field(default_factory=list)


class Builder:
    def __init__(self, plugin_name: str, datasets: dict[str, list]):
        if not plugin_name:
            raise BagPlanError("a Bag runs in the run's worker sidecars, but this client has no worker plugin")
        self.plugin = plugin_name
        self.datasets = datasets
        self.dsk: dict[Any, Any] = {}
        self.token = uuid.uuid4().hex[:12]
        self.n = 0

    def _name(self, what: str) -> str:
        self.n += 1
        return f"{what}-{self.token}-{self.n}"

    # -- nodes to parts (lazy, so consecutive element-wise steps fuse into one task per partition)
    def parts(self, node: Any) -> list[Part]:
        if not isinstance(node, dict) or not isinstance(node.get("op"), str):
            raise BagPlanError(f"a Bag plan node must be a map with an 'op', got {type(node).__name__}")
        op = node["op"]
        if op == "from_sequence":
            return [Part(input=bytes(p)) for p in node.get("partitions") or []]
        if op == "read_text":
            return [Part(read=block) for block in text_blocks(node.get("paths"), node.get("blocksize"), node.get("compression"))]
        if op == "dataset":
            futures = self.datasets.get(node.get("name"))
            if futures is None:
                raise BagPlanError(f"the persisted Bag {node.get('name')!r} is not on this cluster (its client's scope ended?)")
            return [Part(input=f) for f in futures]
        if op == "steps":
            parts = self.parts(node.get("input"))
            steps = [bytes(s) for s in node.get("steps") or []]
            for p in parts:
                p.steps = p.steps + steps
            return parts
        if op == "reduction":
            key = self.reduction(node)
            return [Part(input=key)]
        if op == "group_by":
            return [Part(input=k) for k in self.group_by(node)]
        raise BagPlanError(f"unknown Bag plan op {op!r}")

    def task(self, part: Part, then: bytes | None = None, name: str | None = None, index: int = 0,
             write: dict | None = None) -> Any:
        """Materialize a part as one task (steps fused), optionally ending in a per-partition reduction or a write."""
        if not part.steps and then is None and write is None and part.read is None and part.input is not None \
                and not isinstance(part.input, bytes):
            return part.input  # already a task (or a persisted future): nothing to add
        program: dict[str, Any] = {"kind": "partition", "steps": part.steps}
        if write is not None:
            program["write"] = write
        if part.read is not None:
            program["read"] = part.read
        if then is not None:
            program["then"] = then
        key = (name or self._name("bag-partition"), index)
        args: list[Any] = [run_partition, self.plugin, program]
        if part.read is None:
            args.append(part.input)
        self.dsk[key] = tuple(args)
        return key

    def keys(self, node: Any, name: str = "bag-partition", then: bytes | None = None) -> list:
        parts = self.parts(node)
        base = self._name(name)
        return [self.task(p, then, base, i) for i, p in enumerate(parts)]

    def reduction(self, node: dict) -> Any:
        split_every = int(node.get("split_every") or SPLIT_EVERY)
        if split_every < 2:
            raise BagPlanError("split_every must be at least 2")
        level = self.keys(node.get("input"), "reduce-part", bytes(node["per"]))
        agg = bytes(node["agg"])
        depth = 0
        while True:
            final = len(level) <= split_every
            name = self._name("reduce-aggregate" if not final else "reduce-final")
            nxt = []
            for i in range(0, max(len(level), 1), split_every):
                key = (name, i // split_every)
                self.dsk[key] = (run_partition, self.plugin, {"kind": "aggregate", "agg": agg, "final": final, "depth": depth},
                                 *level[i:i + split_every])
                nxt.append(key)
            level = nxt
            depth += 1
            if final:
                return level[0]

    def group_by(self, node: dict) -> list:
        inputs = self.keys(node.get("input"), "group-split-input")
        n = int(node.get("npartitions") or len(inputs) or 1)
        key_fn = bytes(node["key"])
        split = self._name("group-split")
        for i, k in enumerate(inputs):
            self.dsk[(split, i)] = (run_partition, self.plugin, {"kind": "split", "key": key_fn, "n": n}, k)
        merged = self._name("group-merge")
        out = []
        for j in range(n):
            self.dsk[(merged, j)] = (collect_group, self.plugin, {"kind": "group"}, j, *[(split, i) for i in range(len(inputs))])
            out.append((merged, j))
        return out


def text_blocks(paths: Any, blocksize: Any, compression: Any) -> list[dict]:
    """The (path, start, end) blocks of the files: a line belongs to the block its first byte is in, so blocks
    need no coordination. Compressed files are one block each (gzip cannot be split)."""
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise BagPlanError("readText needs a path, a glob or a list of them")
    files: list[str] = []
    for p in paths:
        matched = sorted(glob.glob(p)) if glob.has_magic(p) else [p]
        if not matched:
            raise FileNotFoundError(f"Bag.readText(): no file matches {p!r}")
        files.extend(matched)
    blocks = []
    for f in files:
        comp = compression
        if comp == "infer":
            comp = "gzip" if f.endswith(".gz") else None
        if comp not in (None, "gzip"):
            raise BagPlanError(f"Bag.readText(): compression {comp!r} is not supported (plain or 'gzip')")
        try:
            size = os.path.getsize(f)
        except OSError as exc:
            raise FileNotFoundError(f"Bag.readText(): cannot read {f!r}: {exc}") from exc
        if comp or not blocksize:
            blocks.append({"path": os.path.abspath(f), "start": 0, "end": None, "compression": comp})
            continue
        bs = int(blocksize)
        for start in range(0, max(size, 1), bs):
            blocks.append({"path": os.path.abspath(f), "start": start, "end": min(start + bs, size), "compression": None})
    return blocks


# ---------------------------------------------------------------- actions


async def run(action: str, plan: Any, args: dict[str, Any], client: Any) -> Any:
    """``compute`` → ``{"parts": [bin]}`` (a Bag, partitions in order) or ``{"value": bin}`` (a reduction);
    ``persist`` → a plan reading the published partitions; ``take`` → the first ``npartitions`` partitions."""
    if not isinstance(plan, dict) or "node" not in plan:
        raise BagPlanError("a Bag plan is {node, out}")
    plugin = args.get("plugin_name") or ""
    node = plan["node"]
    datasets = await _datasets(client, node)
    b = Builder(plugin, datasets)
    if action == "compute" or action == "take":
        if plan.get("out") == "item":
            key = b.task(b.parts(node)[0])
            return {"value": await _get(client, b.dsk, [key], key_is_item=True)}
        keys = b.keys(node)
        if action == "take":
            n = int(args.get("npartitions") or 1)
            keys = keys if n < 0 else keys[:n]
        return {"parts": await _get(client, b.dsk, keys)}
    if action == "persist":
        name = args.get("name")
        if not isinstance(name, str) or not name:
            raise BagPlanError("persist needs a dataset name")
        keys = b.keys(node)
        futures = client.get(b.dsk, keys, sync=False) if keys else []
        await client.publish_dataset(futures, name=name)
        return {"node": {"op": "dataset", "name": name, "npartitions": len(keys)}, "out": "bag"}
    if action == "to_text_files":
        pattern = args.get("pattern")
        if not isinstance(pattern, str) or pattern.count("*") != 1:
            raise BagPlanError("toTextFiles needs a path pattern with one '*', e.g. 'out/part-*.txt'")
        parts = b.parts(node)
        width = len(str(max(len(parts) - 1, 0)))
        paths = [os.path.abspath(pattern.replace("*", str(i).zfill(width))) for i in range(len(parts))]
        for path in {os.path.dirname(p) for p in paths}:
            os.makedirs(path, exist_ok=True)
        name = b._name("to-text-files")
        keys = []
        for i, (part, path) in enumerate(zip(parts, paths)):
            key = b.task(part, name=name, index=i, write={"path": path, "compression": "gzip" if path.endswith(".gz") else None})
            keys.append(key)
        await _get(client, b.dsk, keys)
        return {"paths": paths}
    raise BagPlanError(f"unknown Bag action {action!r}; expected compute, take, persist or to_text_files")


async def _get(client, dsk: dict, keys: list, key_is_item: bool = False) -> Any:
    if not keys:
        return []
    futures = client.get(dsk, keys, sync=False)
    try:
        values = await client.gather(futures)
    finally:
        for f in futures:
            f.release()
    return values[0] if key_is_item else list(values)


async def _datasets(client, node: Any, found: dict | None = None) -> dict[str, list]:
    """The persisted partitions a plan reads (``dataset`` nodes anywhere in it)."""
    found = {} if found is None else found
    if isinstance(node, dict):
        if node.get("op") == "dataset" and node.get("name") not in found:
            try:
                found[node["name"]] = list(await client.get_dataset(node["name"]))
            except KeyError:
                raise BagPlanError(f"the persisted Bag {node['name']!r} is gone: its client's scope ended") from None
        for v in node.values():
            await _datasets(client, v, found)
    return found

