/** Tasks for test/dask/limits.test.ts: each limited one returns when it held its slot ([start, end] in ms). */
import { concurrency, task } from "../../src/index.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const dbWork = task({ tags: ["db"] }, async (ms: number) => {
  const start = Date.now();
  await sleep(ms);
  return [start, Date.now()] as const;
});

/** The same limit, taken for a section of code inside an untagged task. */
export const dbSection = task(async (ms: number) =>
  concurrency("db", async () => {
    const start = Date.now();
    await sleep(ms);
    return [start, Date.now()] as const;
  }),
);

export const untagged = task(() => process.pid);

/** Takes a slot of 'db' inside the task, then kills its own Dask worker while holding it. */
export const holdThenDie = task(async () =>
  concurrency("db", async () => {
    process.kill(process.ppid, "SIGKILL");
    await sleep(60_000);
  }),
);

/** A tagged task that kills its Dask worker (its slot is the bridge's, given back when its Dask task ends). */
export const taggedDie = task({ tags: ["db"] }, () => {
  process.kill(process.ppid, "SIGKILL");
  return "unreachable";
});
