/** Tasks for the UI's Dask test, in their own module: Dask workers import the module that defines a task. */
import { existsSync } from "node:fs";
import { task } from "../../src/index.ts";

/** Sleeps `ms`, so the run's task runs spread over both workers' lanes. */
export const nap = task({ name: "nap" }, async (ms: number) => {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});

/** Waits until `file` exists: keeps the run (and its cluster) alive while the test looks at the page. */
export const waitForFile = task({ name: "wait-for-file" }, async (file: string) => {
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 50));
  return file;
});
