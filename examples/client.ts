/**
 * Dask clients from TypeScript (`npx tsx examples/client.ts`): the same `getDaskClient()` in a flow (the flow's
 * cluster), in a task on a worker (that worker's scheduler), and outside any run (a temporary local cluster);
 * daskflow tasks and Python callables through it; awaiting a value versus holding a future.
 */
import { flow, task, getRunContext } from "daskflow";
import { Bag, DaskTaskRunner, getDaskClient, withDaskClient } from "daskflow/dask";

export const double = task((x: number) => x * 2);

/** In a task on a worker: the client is on that worker's scheduler; the task's thread slot is free meanwhile. */
export const summarize = task(async (n: number) => {
  await using client = await getDaskClient();
  const numbers = Bag.fromSequence(Array.from({ length: n }, (_, i) => i), { npartitions: 4 });
  const future = client.compute(numbers.mean()); // holding a future: the work runs on the cluster meanwhile
  const doubled = await client.gather(client.map(double, [1, 2, 3])); // daskflow tasks, with retries, states, logs
  return { mean: await future, doubled, worker: getRunContext().worker?.address };
});

export const clientFlow = flow(
  { name: "client-example", taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 2, threads_per_worker: 1 } }) },
  async () => {
    // In a flow: the flow's own cluster, through the runner's bridge (no process of its own).
    await using client = await getDaskClient();
    const added = await client.submit<number>("operator.add", [40, 2]); // awaiting a value
    const data = client.scatter([3, 1, 2]); // holding a future: the data stays on the cluster
    const sorted = await client.submit<number[]>("builtins.sorted", [data]);
    const info = await client.schedulerInfo();
    const fromTask = await summarize.submit(100).result();
    // Leaving a client's scope with a future nobody resolved is an error naming it (its work finished first).
    const unresolved = await withDaskClient(async (inner) => {
      inner.submit("operator.mul", [6, 7]);
    }).then(
      () => "none",
      (error: Error) => `${error.name}: ${error.message.split(". ")[0]}.`,
    );
    return { added, sorted, workers: Object.keys(info.workers).length, dashboard: client.dashboardLink, fromTask, unresolved };
  },
);

const result = await clientFlow();
console.log(`in a flow: operator.add(40, 2) = ${result.added}; sorted scattered data = ${JSON.stringify(result.sorted)}; ${result.workers} workers`);
console.log(`in a task on ${result.fromTask.worker}: mean of 0..99 = ${result.fromTask.mean}; double.map([1, 2, 3]) = ${JSON.stringify(result.fromTask.doubled)}`);
console.log(`unresolved future: ${result.unresolved}`);
console.log(`(the flow's dashboard was at ${result.dashboard})`);

// Outside any run: a temporary local cluster, closed when the function returns.
const total = await withDaskClient(async (client) => client.compute(Bag.fromSequence([1, 2, 3, 4]).sum()), { timeoutSeconds: 60 });
console.log(`outside a run: sum of [1, 2, 3, 4] = ${total}`);

