/** Tasks for the UI's Dask test, in their own module: Dask workers import the module that defines a task. */
import { existsSync, writeFileSync } from "node:fs";
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

/** Fails for a negative input, with a stack: a failure on the run's page. */
export const parse = task({ name: "parse-record" }, async (x: number) => {
  await new Promise((r) => setTimeout(r, 40 + (x % 5) * 30));
  if (x < 0) throw new RangeError(`record ${x} has a negative id`);
  return x;
});

/** Fails its first attempt (marked by a file), then completes: a retried bar. */
export const upload = task({ name: "upload", retries: 2, retryDelaySeconds: 0.2 }, async (marker: string) => {
  await new Promise((r) => setTimeout(r, 120));
  if (!existsSync(marker)) {
    writeFileSync(marker, "");
    throw new Error("connection reset, retrying");
  }
  return "uploaded";
});
