/**
 * The tasks bench/prefect-compare.ts sends to Dask, the counterparts of those in bench/prefect_side.py. They live in
 * their own module because Dask workers import the module that defines a task: this one only defines tasks.
 */
import { task } from "daskflow";

/** The trivial task (workloads a, b, c): `inc` in bench/prefect_side.py. */
export const inc = task({ name: "inc" }, (x: number) => x + 1);

/** The fan-out task (workload d): sleeps, then returns its index; `nap` in bench/prefect_side.py. */
export const nap = task({ name: "nap" }, async (i: number, seconds: number) => {
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return i;
});

/** The fan-in task (workload d): takes every `nap` future's value; `total` in bench/prefect_side.py. */
export const total = task({ name: "total" }, (values: number[]) => values.reduce((a, b) => a + b, 0));
