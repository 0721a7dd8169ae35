/** A user's script, as run from the shell: a 30-link chain on a temporary LocalCluster, all defaults. The test kills
 * it with SIGKILL midway, then runs it again with DASKFLOW_RESUME=last. */
import { type TaskFuture, flow, task } from "../../../src/index.ts";
import { DaskTaskRunner } from "../../../src/dask/index.ts";

export const slowLink = task(async (prev: number, i: number) => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return prev + i;
});

const links: TaskFuture<number>[] = [];

export const killChain = flow({ taskRunner: new DaskTaskRunner({ clusterKwargs: { nWorkers: 1, threadsPerWorker: 1 } }) }, async (n: number) => {
  let prev: number | TaskFuture<number> = 0;
  for (let i = 1; i <= n; i++) links.push((prev = slowLink.submit(prev, i)));
  return prev;
});

const value = await killChain(Number(process.env.CHAIN_LINKS ?? "30"));
console.log(`RESULT ${String(value)} RERUN ${links.filter((f) => f.state.name !== "Cached").length}`);
