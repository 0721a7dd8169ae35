/**
 * Flows on a two-worker test cluster that place each task on a chosen worker, so a value passed from one task to
 * the next crosses between workers (Dask moves it) and a task can be sent back to the sidecar that ran another.
 */
import assert from "node:assert/strict";
import { flow, getRunContext } from "../../src/index.ts";
import { DaskTaskRunner, annotate } from "../../src/dask/index.ts";

/** `submit` with its tasks pinned to `worker`. */
export const on = <T>(worker: string, submit: () => T): T => annotate({ workers: [worker], allowOtherWorkers: false }, submit);

/** Runs `body` in a flow on the cluster at `address` with the addresses of its two workers, in sorted order. */
export function onTwoWorkers<T>(address: string, body: (first: string, second: string) => Promise<T>): Promise<T> {
  return flow({ taskRunner: new DaskTaskRunner({ address }) }, async () => {
    const runner = getRunContext().taskRunner as DaskTaskRunner;
    const [first, second] = (await runner.workers()).map((w) => w.address).sort();
    assert.ok(first && second && first !== second, "the test cluster has two workers");
    return body(first, second);
  })();
}
