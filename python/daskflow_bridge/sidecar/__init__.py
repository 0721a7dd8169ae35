"""The Node sidecars of a Dask worker: one sidecar process and its channel (process.py), a run's pool of them
(pool.py), and which Node runs them (node.py).

Runs inside the Dask workers. Used by the worker's plugin and run_task (worker/) and by Bag partition tasks
(collections/bag.py); imports only transfer/.
"""
