/** The flow and task of lost-class.ts, in a module of their own. */
import { type Task, flow, task } from "../../../src/index.ts";
import { DaskTaskRunner } from "../../../src/dask/index.ts";

export const echo = task({ name: "echo" }, (value: unknown) => value);

export const lostFlow = flow(
  { name: "lost", taskRunner: new DaskTaskRunner({ address: process.env.DASK_ADDRESS! }) },
  async (t: Task<[unknown], unknown>, value: unknown) => t.submit(value).result(),
);
