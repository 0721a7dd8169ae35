/**
 * A script that defines a task below a top-level flow call: a Dask worker importing this module stops at that call
 * (flows do not run on workers), so `late` never exists there. Its run must fail soon, saying so, not at the
 * import bound.
 */
import { flow, task } from "../../../src/index.ts";
import { DaskTaskRunner } from "../../../src/dask/index.ts";

export const early = task({ name: "early" }, (x: number) => x + 1);
const runner = () => new DaskTaskRunner({ address: process.env.DASK_ADDRESS! });

export const first = flow({ name: "first", taskRunner: runner() }, async () => early.submit(1).result());
console.log(`FIRST ${await first()}`);

export const late = task({ name: "late" }, (x: number) => x * 10);
export const second = flow({ name: "second", taskRunner: runner() }, async () => late.submit(2).result());
const started = Date.now();
try {
  console.log(`SECOND ${await second()}`);
} catch (error) {
  console.log(`ERROR after ${Date.now() - started} ms: ${(error as Error).message}`);
}
