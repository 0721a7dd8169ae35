/**
 * Run as a user would (`node --import tsx`, with tsconfig.user.json): a flow on a temporary LocalCluster with the
 * built package. Prints one JSON line for built-package.test.ts.
 */
import { flow } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { sidecarView, square, sumOfSquares } from "./user-tasks.ts";

const main = flow({ taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 1 } }) }, async () => {
  const squares = await Promise.all(square.map([1, 2, 3]).map((f) => f.result()));
  return { squares, nested: await sumOfSquares.submit(4).result(), worker: await sidecarView.submit().result() };
});

console.log(JSON.stringify({ flowProcessDaskflow: import.meta.resolve("daskflow"), ...(await main()) }));
