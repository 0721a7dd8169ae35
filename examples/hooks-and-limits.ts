/**
 * State hooks and a concurrency limit on a temporary Dask cluster.
 *
 * Eight `query` tasks are tagged "db" and the runner allows two "db" runs at once, while the cluster has four
 * threads: the limit, not the cluster, keeps them two at a time, and the untagged `report` task is not held up by
 * them (a task waiting for a slot holds no worker thread). One query fails on its first attempt and retries: its
 * `onFailure` hook does not fire (hooks fire for final states, after the retries), its `onCompletion` does. Task
 * hooks run on the worker, with the run's logger; the flow's hook runs here.
 *
 *   npx tsx examples/hooks-and-limits.ts
 */
import { flow, getRunLogger, task } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";

export const query = task(
  {
    tags: ["db"],
    retries: 1,
    onCompletion: (_task, run) => getRunLogger().info(`query finished after ${run.runCount} attempt(s)`),
    onFailure: () => getRunLogger().error("query failed for good"),
  },
  async (n: number) => {
    const run = getRunLogger();
    if (n === 3 && !globalThis.retried) {
      globalThis.retried = true; // the retry runs in the same sidecar, so it sees this
      throw new Error("flaky connection");
    }
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    run.info(`query ${n} done`);
    return { n, start, end: Date.now() };
  },
);

export const report = task(async () => Date.now());

declare global {
  var retried: boolean | undefined;
}

let hookRuns = 0;

export const nightly = flow(
  {
    name: "hooks-and-limits",
    taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 4 }, concurrencyLimits: { db: 2 } }),
    onCompletion: () => void hookRuns++,
  },
  async () => {
    const started = Date.now();
    const queries = query.map([1, 2, 3, 4, 5, 6, 7, 8]);
    const reported = await report.submit().result();
    return { started, reported, spans: await Promise.all(queries.map((q) => q.result())) };
  },
);

const { started, reported, spans } = await nightly();
// At each query's start, count the queries running then: never more than the limit.
const most = Math.max(...spans.map((a) => spans.filter((b) => b.start <= a.start && a.start < b.end).length));
console.log(`at most ${most} 'db' queries ran at once (limit 2): ${most <= 2}`);
console.log(`the untagged report ran before the queries were done: ${reported < Math.max(...spans.map((s) => s.end))} (${reported - started} ms in)`);
console.log(`the flow's onCompletion hook ran ${hookRuns} time(s)`);
