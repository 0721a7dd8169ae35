"""What runs inside each Dask worker: the daskflow WorkerPlugin that starts a run's Node sidecars (plugin.py), the
function Dask runs for every daskflow task (task.py's ``run_task``), the client service that serves a task's own
client requests on the worker (client_service.py, with the run's client, run_clients.py), the task events on their
way to the flow (events.py) and the worker's TLS credentials for its tasks' clients (credentials.py).

Dask finds ``DaskflowWorkerPlugin`` and ``run_task`` on the workers by these module paths (both are pickled by
reference). Never imports the bridge process's code (bridge/): the bridge imports this.
"""
