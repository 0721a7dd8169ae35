/** Tasks for the client tests (test/dask/client*.test.ts); workers import this module to run them. */
import { getRunContext, getRunLogger, task } from "../../src/index.ts";
import { getDaskClient, withDaskClient } from "../../src/dask/index.ts";

export const double = task((x: number) => x * 2);

/** Sleeps `ms`, then returns it: a run that is still open a while after it started. */
export const nap = task(async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
});

/** Fails twice, then succeeds: retries run in the task engine wherever the task was submitted from. */
export const flaky = task({ retries: 2, retryDelaySeconds: 0 }, () => {
  const runs = getRunContext().taskRun?.runCount ?? 0;
  getRunLogger().info(`flaky attempt ${runs}`);
  if (runs < 3) throw new Error(`attempt ${runs} failed`);
  return runs;
});

/** In a task on a worker: a client on that worker's scheduler, used for tasks, Python callables and data. */
export const clientInTask = task(async (n: number) => {
  await using client = await getDaskClient({ timeoutSeconds: 30 });
  const doubled = await client.gather(client.map(double, Array.from({ length: n }, (_, i) => i)));
  const added = await client.submit<number>("operator.add", [40, 2]);
  const data = client.scatter([1, 2, 3]);
  const total = await client.submit<number>("builtins.sum", [data]);
  const squared = await client.submit((x: number) => x * x, 7); // a plain function, from a task
  const info = await client.schedulerInfo();
  return { doubled, added, total, squared, address: client.schedulerAddress, workers: Object.keys(info.workers).length, worker: getRunContext().worker?.address };
});

/** A task that submits `n` tasks and sums their results (nested submits through its worker). */
export const fanOut = task(async (n: number) => {
  const futures = double.map(Array.from({ length: n }, (_, i) => i));
  const values = await Promise.all(futures.map((f) => f.result()));
  return values.reduce((a, b) => a + b, 0);
});

/** withDaskClient in a task, leaving a future unresolved: the error names it. */
export const leavesFutureInTask = task(async () =>
  withDaskClient(async (client) => {
    client.submit("operator.mul", [6, 7]);
    return "returned";
  }),
);
