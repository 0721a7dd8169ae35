"""The worker plugin that lays a pack shipped after the start into the run's folder on every worker."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from .views import lay_out


class DaskflowCodePlugin(WorkerPlugin):
    """One more pack of a run (a task module shipped after the start): laid into the run's folder on every worker,
    including workers that join later (the scheduler hands registered plugins to them)."""

    idempotent = False

    def __init__(self, run: str, pack: dict[str, Any]):
        self.run = run
        self.pack = pack

    def setup(self, worker) -> None:
        lay_out(self.run, [self.pack])
