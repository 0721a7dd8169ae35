"""The daskflow WorkerPlugin: starts a run's pool of warm Node sidecars on each Dask worker (sidecar/pool.py;
docs/bridge-protocol.md §3), with the run's shipped code laid out first."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from .. import shipping
from ..sidecar import node as node_choice
from ..sidecar.pool import SidecarPool
from ..sidecar.process import Sidecar, SidecarError
from .credentials import sidecar_env
from .events import forget_worker
from .run_clients import forget_clients

logger = logging.getLogger("daskflow_bridge.plugin")  # its name before worker/: logging configs may name it


class DaskflowWorkerPlugin(WorkerPlugin):
    """Starts ``worker.state.nthreads`` Node sidecars on every worker (including ones added later)."""

    idempotent = False

    def __init__(self, name: str, sidecar: dict[str, Any]):
        self.name = name
        self.sidecar = dict(sidecar)
        self.pool: SidecarPool | None = None
        self.view: str | None = None
        self.setup_error: str | None = None

    def __getstate__(self):  # never ship a live pool
        return {"name": self.name, "sidecar": self.sidecar}

    def __setstate__(self, state):
        self.name = state["name"]
        self.sidecar = state["sidecar"]
        self.pool = None
        self.view = None
        self.setup_error = None

    def _tell_flow(self, worker, level: str, message: str) -> None:
        """A line in the flow's terminal (through the run's event topic)."""
        topic = self.sidecar.get("topic")
        if topic:
            try:
                worker.log_event(topic, {"kind": "worker-log", "level": level, "message": message})
            except Exception:  # the message is also raised or logged here
                logger.warning("daskflow: could not send to the flow: %s", message)

    def _resolve(self, worker) -> dict[str, Any]:
        """The sidecar command on this worker: its Node, and with shipped code the run's folder laid out."""
        spec = dict(self.sidecar)
        spec["env"] = dict(spec.get("env") or {})
        spec["node"] = node_choice.choose_node(spec.get("node"), worker.address)
        code = spec.pop("code", None)
        cwd = spec.get("cwd")
        if code is None:
            if cwd and not os.path.isdir(cwd):
                raise SidecarError(f"sidecar cwd {cwd!r} does not exist on worker {worker.address}")
            return spec
        view = shipping.view_dir(shipping.cache_dir(), code["run"])
        if code.get("packs"):
            shipping.lay_out(code["run"], code["packs"])
        elif not os.path.isdir(view):
            raise SidecarError(f"the run's shipped code folder {view} is missing on worker {worker.address}")
        shipping.enter_view(view, self.name)
        self.view = view
        spec["argv"] = [*(spec.get("argv") or []), os.path.join(view, code["entry"])]
        spec["env"][shipping.CODE_ROOT_ENV] = view
        # A task that submits tasks starts a bridge from the shipped daskflow, which has no environment of its own
        # next to it: this worker's Python (it has daskflow_bridge) is the one to use.
        if "DASKFLOW_PYTHON" not in os.environ:
            spec["env"].setdefault("DASKFLOW_PYTHON", sys.executable)
        if cwd and not os.path.isdir(cwd):
            spec["cwd"] = None  # the flow's folder is not on this host: the worker's own
        return spec

    def setup(self, worker) -> None:
        try:
            spec = self._resolve(worker)
            # A task's own clients (nested submits, getDaskClient) reach a TLS scheduler with this worker's credentials.
            spec["env"] = {**sidecar_env(getattr(worker, "security", None)), **spec["env"]}
        except Exception as exc:
            self.setup_error = f"{type(exc).__name__}: {exc}"
            self._tell_flow(worker, "error", f"daskflow's worker plugin failed: {exc}")
            raise
        pool = SidecarPool(spec, worker.state.nthreads)
        flow_version = self.sidecar.get("node_version")

        def check_version(sc: Sidecar) -> None:
            warning = node_choice.version_warning(flow_version, sc.node_version, spec["node"])
            if warning:
                self._tell_flow(worker, "warning", warning)

        pool.on_first_ready = check_version
        try:
            pool.start()
        except BaseException:
            pool.close_now()
            raise
        self.pool = pool
        import atexit

        atexit.register(pool.close_now)

    async def teardown(self, worker) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            await pool.close()
        view, self.view = self.view, None
        if view is not None:
            shipping.leave_view(view, self.name)
        forget_worker(worker)
        for closing in forget_clients(worker, self.name):  # the run client its tasks' sessions used
            try:
                await asyncio.wait_for(closing, 10)
            except Exception:
                pass
