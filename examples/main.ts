/**
 * The main job (`npm start`): a flow whose tasks run in parallel on a temporary local Dask cluster. The cluster is
 * created on the first submit (its dashboard link is logged) and torn down when the flow ends.
 */
import { flow, task, getRunContext, getRunLogger } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";

export const square = task(async (x: number) => {
  getRunLogger().info(`squaring ${x}`); // printed live in this terminal, with the task run's name and worker
  return x * x;
});

export const total = task((values: number[]) => values.reduce((a, b) => a + b, 0));

export const sumOfSquares = flow(
  { name: "sum-of-squares", taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 2, threads_per_worker: 2 } }) },
  async (n: number) => {
    const squares = square.map(Array.from({ length: n }, (_, i) => i + 1)); // futures, at once
    const sum = await total.submit(squares).result(); // the squares move worker to worker, not through here
    const runner = getRunContext().taskRunner as DaskTaskRunner;
    return { sum, dashboard: runner.cluster?.dashboard_link };
  },
);

// No main guard needed: a Dask worker importing this module to find `square` does not run the flow.
const { sum, dashboard } = await sumOfSquares(10);
console.log(`sum of squares 1..10 = ${sum}`);
console.log(`(the run's Dask dashboard was at ${dashboard})`);
