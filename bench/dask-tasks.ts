/**
 * The tasks bench/dask.ts sends to Dask. They live in their own module because Dask workers import the module that
 * defines a task: this one only defines tasks, so a worker's import does nothing else.
 */
import { task } from "daskflow";

/** The trivial task of every Dask benchmark, the same as `inc` in bench/raw_dask.py. */
export const inc = task({ name: "inc" }, (x: number) => x + 1);
