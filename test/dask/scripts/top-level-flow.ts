/**
 * A user script with its flow call at top level and no main guard. Dask workers import this module to find
 * `double`; the flow must run once, in this process only. Each flow run appends a line to $FLOW_MARKER_FILE.
 */
import { appendFileSync } from "node:fs";
import { flow, task } from "../../../src/index.ts";
import { DaskTaskRunner } from "../../../src/dask/index.ts";

export const double = task((x: number) => x * 2);

export const topFlow = flow({ taskRunner: new DaskTaskRunner({ address: process.env.DASK_ADDRESS! }) }, async () => {
  appendFileSync(process.env.FLOW_MARKER_FILE!, `flow ran in ${process.pid}\n`);
  return Promise.all(double.map([1, 2, 3]).map((f) => f.result()));
});

const result = await topFlow();
console.log(`RESULT ${JSON.stringify(result)}`);
