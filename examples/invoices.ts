/**
 * A flow in script style, as most users write one: an exported class, tasks and the flow in one module, and the
 * flow called with a top-level `await`. Instances of `Money` cross to the workers and back as `Money` (methods
 * and `instanceof` intact): as arguments, as results, and from task to task.
 */
import { flow, task, getRunLogger } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";

export class Money {
  constructor(
    readonly cents: number,
    readonly currency: string,
  ) {}
  plus(other: Money): Money {
    if (other.currency !== this.currency) throw new Error(`cannot add ${other.currency} to ${this.currency}`);
    return new Money(this.cents + other.cents, this.currency);
  }
  toString(): string {
    return `${(this.cents / 100).toFixed(2)} ${this.currency}`;
  }
}

/** A line of an invoice: its price arrives on the worker as a Money. */
export const lineTotal = task({ name: "line-total" }, (price: Money, quantity: number) => {
  getRunLogger().info(`${quantity} x ${price.toString()}`);
  return new Money(price.cents * quantity, price.currency);
});

/** The invoice total, from the line totals other tasks returned (worker to worker). */
export const invoiceTotal = task({ name: "invoice-total" }, (lines: Money[]) => lines.reduce((sum, line) => sum.plus(line), new Money(0, "EUR")));

export const invoice = flow(
  { name: "invoice", taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 2, threads_per_worker: 1 } }) },
  async (items: Array<[Money, number]>) => {
    const lines = items.map(([price, quantity]) => lineTotal.submit(price, quantity));
    return invoiceTotal.submit(lines).result();
  },
);

const total = await invoice([
  [new Money(1250, "EUR"), 2],
  [new Money(399, "EUR"), 5],
  [new Money(10_000, "EUR"), 1],
]);
console.log(`invoice total: ${total.toString()} (a Money: ${total instanceof Money})`);
