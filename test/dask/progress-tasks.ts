/** Tasks of the progress and log-level tests (their own module: Dask workers import the module of a task). */
import { getRunLogger, task } from "../../src/index.ts";

/** Logs a line; every fourth item fails on both of its attempts. */
export const logged = task({ retries: 1 }, (x: number) => {
  getRunLogger().info(`item ${x}`);
  if (x % 4 === 0) throw new Error(`bad item ${x}`);
  return x;
});
