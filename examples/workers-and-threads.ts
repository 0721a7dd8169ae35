/**
 * Sizing the temporary local cluster explicitly: 4 worker processes with 2 threads each, the counterpart of
 * Prefect's `DaskTaskRunner(cluster_kwargs={"n_workers": 4, "threads_per_worker": 2})`.
 *
 * Each task reports where it ran: its Node sidecar's pid (every thread slot of a Dask worker keeps its own warm
 * sidecar) and that sidecar's parent, the Dask worker process. The log lines name the worker address too
 * (`Task run 'whereAmI-…' [tcp://127.0.0.1:…]`). The flow prints how the 16 runs spread: 4 workers, 8 sidecars.
 *
 *   npx tsx examples/workers-and-threads.ts
 */
import { flow, task, getRunContext } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";

export const whereAmI = task(async (i: number) => {
  await new Promise((resolve) => setTimeout(resolve, 300)); // long enough that the runs overlap
  return { i, taskRun: getRunContext().taskRun?.name ?? "?", pid: process.pid, workerPid: process.ppid };
});

export const workersAndThreads = flow(
  {
    name: "workers-and-threads",
    // camelCase works too: { nWorkers: 4, threadsPerWorker: 2 }
    taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 4, threads_per_worker: 2 } }),
  },
  async () => {
    const flowPid = process.pid;
    const runs = await Promise.all(whereAmI.map(Array.from({ length: 16 }, (_, i) => i)).map((f) => f.result()));
    return { flowPid, runs };
  },
);

const started = Date.now();
const { flowPid, runs } = await workersAndThreads();
const byWorker = new Map<number, Map<number, number[]>>();
for (const r of runs) {
  const sidecars = byWorker.get(r.workerPid) ?? new Map<number, number[]>();
  sidecars.set(r.pid, [...(sidecars.get(r.pid) ?? []), r.i]);
  byWorker.set(r.workerPid, sidecars);
}
const sidecarCount = [...byWorker.values()].reduce((n, s) => n + s.size, 0);
console.log(`\n16 task runs ran on ${byWorker.size} Dask worker processes, in ${sidecarCount} sidecars (4 workers x 2 threads):`);
for (const [workerPid, sidecars] of byWorker) {
  const parts = [...sidecars].map(([pid, items]) => `sidecar ${pid} ran ${items.map((i) => `#${i}`).join(",")}`);
  console.log(`  worker pid ${workerPid}: ${parts.join("; ")}`);
}
console.log(`none ran in the flow process (pid ${flowPid}): ${runs.every((r) => r.pid !== flowPid)}; e.g. ${runs[0]!.taskRun} ran in pid ${runs[0]!.pid}`);
console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s, including cluster start-up (16 x 0.3 s of sleeping, 8 at a time)`);
