"""A session's daskflow tasks (docs/bridge-protocol.md §1: submit, release, cancel, gather, restore): held as Dask
futures by key, submitted in dependency waves, reported with `done` as they complete. Results stay on the cluster."""

from __future__ import annotations

from typing import Any

from ..transfer import protocol as P
from ..transfer.large_value import wrap


class UnknownKeyError(KeyError):
    """A key the bridge does not hold (never submitted, or already released)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class TaskOps:
    """The task ops of Session (session.py), which holds the state they use: ``futures``, ``ac``, ``has_futures``,
    ``topic``, ``plugin_name``, ``conn`` and ``task_function`` (what Dask runs for a task on a worker)."""

    def _submit(self, tasks: list[dict[str, Any]]) -> None:
        client = self._client()
        tasks = self.slots.route(tasks)  # those with concurrency limits wait for slots first (limits/slots.py)
        held = self.futures
        frame_keys = {t.get("key") for t in tasks}
        pending = []
        for t in tasks:
            key = t.get("key")
            if key in held:
                self.done_error(key, ValueError(f"duplicate task key {key!r}: a task with this key is still held"))
            else:
                pending.append(t)
        while pending:
            wave, rest, failed = [], [], []
            for t in pending:
                deps = t.get("deps") or []
                if all(d in held for d in deps):
                    wave.append(t)
                elif all(d in held or d in frame_keys for d in deps):
                    rest.append(t)
                else:
                    failed.append(t)
            if not wave:  # dependency cycle inside the frame
                failed.extend(rest)
                rest = []
            for t in failed:
                missing = [d for d in (t.get("deps") or []) if d not in held]
                frame_keys.discard(t.get("key"))
                self.done_error(t.get("key"), UnknownKeyError(
                    f"task {t.get('key')!r} depends on {missing!r}, which the bridge does not hold "
                    "(never submitted, failed to submit, or already released)"))
            groups: dict[Any, list[dict[str, Any]]] = {}
            for t in wave:
                gk = (_freeze(t.get("annotations") or {}), len(t.get("deps") or []))
                groups.setdefault(gk, []).append(t)
            for (_, ndeps), group in groups.items():
                try:
                    futs = self._map_group(client, group, ndeps)
                except Exception as exc:
                    for t in group:
                        frame_keys.discard(t.get("key"))
                        self.done_error(t.get("key"), exc)
                    continue
                for t, f in zip(group, futs):
                    held[t["key"]] = f
                self.ac.update(futs)
                self.has_futures.set()
            pending = rest

    def _map_group(self, client, group: list[dict[str, Any]], ndeps: int, deps: list | None = None) -> list:
        ann = group[0].get("annotations") or {}
        kw: dict[str, Any] = {}
        if ann.get("resources"):
            kw["resources"] = ann["resources"]
        if ann.get("priority") is not None:
            kw["priority"] = ann["priority"]
        if ann.get("retries") is not None:
            kw["retries"] = ann["retries"]
        if ann.get("workers"):
            kw["workers"] = [ann["workers"]] if isinstance(ann["workers"], str) else list(ann["workers"])
            if ann.get("allow_other_workers"):
                kw["allow_other_workers"] = True
        n = len(group)
        iterables = [
            [t["spec"] for t in group],
            [t["args"] for t in group],
            [t.get("meta") or {} for t in group],
            [self.topic] * n,
            [self.plugin_name] * n,
        ]
        held = self.futures
        for i in range(ndeps):
            iterables.append([deps[i]] if deps is not None else [held[t["deps"][i]] for t in group])
        return client.map(self.task_function, *iterables, key=[t["key"] for t in group], pure=False, **kw)

    async def _pump(self) -> None:
        """Emit `done` for every held future as it completes (results stay on the cluster)."""
        ac = self.ac
        while True:
            await self.has_futures.wait()
            async for fut in ac:
                await self._emit_done(fut)
                while ac.has_ready():
                    for f in ac.next_batch(block=False):
                        await self._emit_done(f)
            if ac.is_empty():
                self.has_futures.clear()

    async def _emit_done(self, fut) -> None:
        status = fut.status
        if status == "finished":
            self.send({"op": P.OP_DONE, "key": fut.key, "status": P.STATUS_FINISHED})
        elif status == "cancelled":
            self.send({"op": P.OP_DONE, "key": fut.key, "status": P.STATUS_CANCELLED})
        else:
            try:
                exc = await fut.exception()
                tb = await fut.traceback()
            except Exception as e:  # e.g. the future was cancelled meanwhile
                exc, tb = e, None
            if tb is not None and exc is not None and exc.__traceback__ is None:
                try:
                    exc = exc.with_traceback(tb)
                except Exception:
                    pass
            self.done_error(fut.key, exc if exc is not None else RuntimeError(f"task ended with status {status}"))

    async def _restore(self, key: Any, data: Any) -> None:
        """Holds ``data`` (a released task's envelope, sent back by the flow process) under ``key`` for new dependents."""
        if not isinstance(data, (bytes, bytearray)):
            raise P.ProtocolError(f"restore of {key!r} without binary data")
        [future] = await self._client().scatter([wrap(data)], hash=False)
        self.futures[key] = future

    def _release(self, keys: list[Any]) -> None:
        for k in keys:
            f = self.futures.pop(k, None)
            if f is not None:
                f.release()  # now, not when the last reference (e.g. in the as_completed loop) goes away

    async def _cancel(self, keys: list[Any]) -> None:
        self.slots.cancel(keys)
        futs = [self.futures[k] for k in keys if k in self.futures]
        if futs:
            await self._client().cancel(futs)

    async def _gather(self, keys: list[Any]) -> list[bytes]:
        missing = [k for k in keys if k not in self.futures]
        if missing:
            raise UnknownKeyError(f"cannot gather {missing!r}: the bridge does not hold these keys "
                                  "(never submitted, or already released)")
        return list(await self._client().gather([self.futures[k] for k in keys], direct=self.conn.gather_direct))


def _freeze(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(x) for x in v)
    return v
