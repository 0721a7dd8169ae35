"""Shipped code on a worker host (src/dask/shipping/ builds it; docs/code-shipping.md): the host's pack cache
(packs.py), a run's code folder made of its packs (views.py), and the plugin that lays a pack shipped later into it
(plugin.py).

Runs in the Dask workers (the worker plugin lays a run's code out before its sidecars start); the bridge process
and a task's session only register DaskflowCodePlugin. Imports nothing else of daskflow_bridge.
"""

from .packs import PACK_FORMAT, ShippingError, cache_dir, max_age_seconds, prune_packs, unpack_once
from .plugin import DaskflowCodePlugin
from .views import CODE_ROOT_ENV, add_to_view, enter_view, lay_out, leave_view, view_dir

__all__ = [
    "CODE_ROOT_ENV", "PACK_FORMAT", "DaskflowCodePlugin", "ShippingError", "add_to_view", "cache_dir", "enter_view",
    "lay_out", "leave_view", "max_age_seconds", "prune_packs", "unpack_once", "view_dir",
]
