"""The bridge process the flow starts (``python -m daskflow_bridge``; src/dask/bridge.ts spawns it): its channel to
the flow process and main loop (process.py), and on `start` the cluster it creates or connects to (cluster.py,
cluster_signature.py) with the TLS settings given (security.py).

Runs only there, at the top: it imports the session it serves (session/), the worker plugin and task function it
hands to Dask (worker/), and nothing imports it but ``__main__``.
"""
