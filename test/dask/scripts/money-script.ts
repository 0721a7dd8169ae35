/**
 * A flow written the way the README shows one: tasks, an exported class and a top-level `await` of the flow, in
 * one module. `Money` crosses as a result (worker -> flow), as an argument (flow -> worker) and from task to task
 * (worker -> worker). MONEY_RUNNER picks the runner: "ship" (a temporary LocalCluster of two workers, code
 * shipped), "no-ship" (the same, workers import the files in place), "local" (in-process).
 */
import { ConcurrentTaskRunner, flow, task } from "../../../src/index.ts";
import { DaskTaskRunner } from "../../../src/dask/index.ts";

export class Money {
  constructor(
    readonly cents: number,
    readonly currency: string,
  ) {}
  twice(): Money {
    return new Money(this.cents * 2, this.currency);
  }
}

export const makeMoney = task({ name: "make-money" }, (cents: number) => new Money(cents, "EUR"));
export const plain = task({ name: "plain" }, (c: number) => ({ c }));
export const double = task({ name: "double" }, (m: Money) => {
  if (!(m instanceof Money)) throw new Error(`double got ${Object.prototype.toString.call(m)}, not a Money`);
  return m.twice();
});

const mode = process.env.MONEY_RUNNER ?? "ship";
const runner =
  mode === "local"
    ? new ConcurrentTaskRunner()
    : new DaskTaskRunner({ clusterKwargs: { n_workers: 2, threads_per_worker: 1 }, shipCode: mode === "ship" });

const show = (m: Money) => `${m instanceof Money ? "Money" : "not a Money"} ${m.cents} ${m.currency}`;

export const moneyFlow = flow({ name: "money", taskRunner: runner }, async () => {
  const first = await plain.submit(1).result({ timeoutSeconds: 30 });
  const made = makeMoney.submit(1234);
  const fromFlow = double.submit(new Money(5, "USD"));
  const chained = double.submit(made);
  const [m, f, c] = await Promise.all([made, fromFlow, chained].map((x) => x.result({ timeoutSeconds: 30 })));
  return { plain: first, made: show(m!), fromFlow: show(f!), chained: show(c!) };
});

console.log(`RESULT ${JSON.stringify(await moneyFlow())}`);
