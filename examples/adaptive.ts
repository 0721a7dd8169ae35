/**
 * Adaptive scaling, the counterpart of Prefect's `adapt_kwargs`: the temporary cluster starts with one worker and
 * Dask adds workers (up to `maximum`) while there is a backlog of tasks, then retires them when the work is done.
 *
 * Sixteen 1-second tasks are more than one worker clears quickly, so Dask scales up. Workers that adaptive scaling
 * adds get their Node sidecars too (daskflow registers a worker plugin). Each task reports the worker it ran on
 * (`getRunContext().worker`), and the flow prints the distinct workers it saw.
 *
 *   npx tsx examples/adaptive.ts
 */
import { flow, task, asCompleted, getRunContext } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";

export const slow = task(async (i: number) => {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return { i, worker: getRunContext().worker?.address ?? "flow process", finishedAt: Date.now() };
});

export const adaptive = flow(
  {
    name: "adaptive",
    taskRunner: new DaskTaskRunner({
      clusterKwargs: { n_workers: 1 },
      adaptKwargs: { minimum: 1, maximum: 4 },
    }),
  },
  async () => {
    const started = Date.now();
    const futures = slow.map(Array.from({ length: 16 }, (_, i) => i));
    const timeline: string[] = [];
    const seen = new Set<string>();
    for await (const future of asCompleted(futures)) {
      const r = await future.result();
      if (!seen.has(r.worker)) {
        seen.add(r.worker);
        timeline.push(`  +${((r.finishedAt - started) / 1000).toFixed(1)} s: first task finished on worker ${r.worker} (worker #${seen.size})`);
      }
    }
    return { timeline, workers: seen.size, seconds: (Date.now() - started) / 1000 };
  },
);

const { timeline, workers, seconds } = await adaptive();
console.log(`\n16 x 1 s tasks took ${seconds.toFixed(1)} s from submit (cluster start-up included); the cluster started with 1 worker, adapt maximum 4:`);
for (const line of timeline) console.log(line);
console.log(`distinct workers: ${workers}`);
