/**
 * Dask resources with annotations: the reference page's own example, in TypeScript.
 *
 * The temporary cluster has one worker that claims 1 GPU and 1 "process" (resources are abstract in Dask, not
 * detected from the machine). One task asks for the GPU; three ask for `process: 1`. The worker has two threads,
 * yet the three `process` tasks run one at a time, because only one unit of `process` exists. The GPU task needs
 * no `process`, so it may overlap with them.
 *
 * Python (Prefect):                                 TypeScript (daskflow):
 *   with dask.annotate(resources={'GPU': 1}):         annotate({ resources: { GPU: 1 } }, () => show.submit(0))
 *       future = show(0)
 *
 *   npx tsx examples/resources.ts
 */
import { flow, task } from "daskflow";
import { DaskTaskRunner, annotate } from "daskflow/dask";

export const show = task(async (x: number) => {
  const start = Date.now();
  console.log(x); // what the reference's task does; a local worker's output shows up as "[worker output]" lines
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return { x, start, end: Date.now() };
});

export const myFlow = flow(
  {
    name: "resources",
    // One worker (with two threads) that claims 1 GPU and 1 process.
    taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 2, resources: { GPU: 1, process: 1 } } }),
  },
  async () => {
    // this task requires 1 GPU resource on a worker
    const gpu = annotate({ resources: { GPU: 1 } }, () => show.submit(0));
    // these tasks each require 1 process on a worker; with 1 worker offering 1 process, they run sequentially
    const cpu = annotate({ resources: { process: 1 } }, () => [show.submit(1), show.submit(2), show.submit(3)]);
    return Promise.all([gpu, ...cpu].map((f) => f.result()));
  },
);

const runs = await myFlow();
const t0 = Math.min(...runs.map((r) => r.start));
const fmt = (t: number) => `${((t - t0) / 1000).toFixed(2).padStart(5)} s`;
console.log("\ntask   resource      start     end");
for (const r of runs) console.log(`show(${r.x})  ${r.x === 0 ? "GPU: 1    " : "process: 1"}  ${fmt(r.start)}  ${fmt(r.end)}`);
const cpu = runs.filter((r) => r.x !== 0).sort((a, b) => a.start - b.start);
const sequential = cpu.every((r, i) => i === 0 || r.start >= cpu[i - 1]!.end);
console.log(`\nthe three 'process: 1' tasks ran one at a time: ${sequential}`);
