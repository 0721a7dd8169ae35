"""What runs inside each Dask worker: the daskflow WorkerPlugin that starts a run's Node sidecars (plugin.py), the
function Dask runs for every daskflow task (task.py's ``run_task``), and the client service that serves a task's own
client requests on the worker (client_service.py).

Dask finds ``DaskflowWorkerPlugin`` and ``run_task`` on the workers by these module paths (both are pickled by
reference). Never imports the bridge process's code (bridge/): the bridge imports this.
"""
