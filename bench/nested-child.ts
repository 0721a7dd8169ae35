/**
 * One side of bench/nested-submit.ts: on a 2-worker x 1-thread LocalCluster, a task that submits N tasks, timed
 * from submit to its result, `rounds` times after a warm-up. Prints {side, seconds: [...]}.
 */
import { flow } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { fanOut } from "./nested-tasks.ts";

const [side = "?", n = "50", rounds = "5"] = process.argv.slice(2);
const N = Number(n);
const run = flow({ name: "nested-submit", taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 2, threads_per_worker: 1 } }) }, async () => {
  await fanOut.submit(5).result(); // warm: sidecars started, modules imported, the first nested session made
  const seconds: number[] = [];
  for (let i = 0; i < Number(rounds); i++) {
    const t0 = performance.now();
    const total = await fanOut.submit(N).result();
    seconds.push((performance.now() - t0) / 1000);
    if (total !== (N * (N + 1)) / 2) throw new Error(`wrong sum ${total}`);
  }
  return seconds;
});
console.log(JSON.stringify({ side, seconds: await run() }));
