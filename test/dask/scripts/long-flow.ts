/** A flow on a temporary LocalCluster whose task runs for a minute; tests interrupt it with a signal. */
import { flow, getRunLogger, task } from "../../../src/index.ts";
import { DaskTaskRunner } from "../../../src/dask/index.ts";

export const long = task(async () => {
  getRunLogger().info("long task started");
  await new Promise((r) => setTimeout(r, 60_000));
});

const longFlow = flow({ taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 1 } }) }, async () =>
  long.submit().result(),
);

await longFlow();
