"""A bridge session: the requests of docs/bridge-protocol.md §1 (tasks, DaskClient ops, collections, shipped code)
served on an asynchronous Dask Client.

Runs in two places: the bridge process (bridge/ subclasses Session with its fds and the cluster it makes) and a Dask
worker serving a task's own client (worker/client_service.py). So it imports neither; what Dask runs for a daskflow
task is handed to Session by them.
"""
