/**
 * A flow whose map of sleeping tasks lasts about PROGRESS_ITEMS × PROGRESS_SLEEP_MS / 4 ms on the in-process runner
 * (four at a time), or on a temporary LocalCluster with PROGRESS_RUNNER=dask; prints RESULT <sum> on stdout.
 * PROGRESS_OPTION=off passes `progress: false`; PROGRESS_FAIL=1 makes every tenth item fail; PROGRESS_LOG=1 makes every
 * tenth item log a line; PROGRESS_OWN_HANDLER=1 installs the program's own SIGINT handler (prints OWN HANDLER, exits 3).
 */
import { ConcurrentTaskRunner, flow, getRunLogger, task } from "../../../src/index.ts";
import { DaskTaskRunner } from "../../../src/dask/index.ts";

const items = Number(process.env.PROGRESS_ITEMS ?? 40);
const sleepMs = Number(process.env.PROGRESS_SLEEP_MS ?? 400);

export const nap = task(async (x: number) => {
  await new Promise((r) => setTimeout(r, sleepMs));
  if (x < 0) throw new Error(`negative ${x}`);
  if (process.env.PROGRESS_LOG && x % 10 === 5) getRunLogger().info(`napped ${x}`);
  return x;
});

const runner =
  process.env.PROGRESS_RUNNER === "dask"
    ? new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 4 } })
    : new ConcurrentTaskRunner({ maxWorkers: 4 });

const napping = flow({ name: "napping", taskRunner: runner, ...(process.env.PROGRESS_OPTION === "off" ? { progress: false } : {}) }, async () => {
  const values = Array.from({ length: items }, (_, i) => (process.env.PROGRESS_FAIL && i % 10 === 0 ? -i - 1 : i));
  const futures = nap.map(values);
  let sum = 0;
  for (const f of futures) {
    const state = await f.wait();
    if (state.type === "COMPLETED") sum += await f.result();
  }
  return sum;
});

if (process.env.PROGRESS_OWN_HANDLER) {
  process.on("SIGINT", () => {
    console.log("OWN HANDLER");
    process.exit(3);
  });
}

console.log(`RESULT ${await napping()}`);
