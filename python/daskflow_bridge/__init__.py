"""daskflow bridge: the Python half of daskflow. One subpackage per place its code runs; each imports only the ones
listed below it (shipping/ and transfer/ import nothing of the package):

- bridge/: the bridge process the flow starts (``python -m daskflow_bridge``)
- worker/: inside each Dask worker: the plugin, ``run_task``, a task's client service
- session/: the bridge protocol's requests on a Dask Client (the bridge process; a worker, for a task's own client)
- limits/: concurrency limits on the scheduler's semaphores (a session's slots)
- results/: persisted task results through fsspec (written on the workers; probed, looked up and read by a session)
- collections/: collection plans into Dask graphs (where a session runs); Bag partition tasks (on the workers)
- sidecar/: a worker's Node sidecar processes and their pool
- shipping/: shipped code on a worker host
- transfer/: frames, message names and large values, on both sides
"""

# Equal to the npm package's version (scripts/sync-version.mjs writes it; the bridge refuses a daskflow of another).
__version__ = "0.1.0"
