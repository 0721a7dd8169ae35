/** The tasks bench/limits.ts sends to Dask (their own module: workers import it). */
import { task } from "daskflow";

/** Sleeps, and says when it ran (epoch ms): the bench measures the tasks' span apart from the flow run's start-up. */
const sleep = async (ms: number): Promise<[number, number]> => {
  const start = Date.now();
  await new Promise<void>((r) => setTimeout(r, ms));
  return [start, Date.now()];
};

/** Under the 'db' limit. */
export const napLimited = task({ name: "napLimited", tags: ["db"] }, (ms: number) => sleep(ms));
/** The same work, unlimited. */
export const napFree = task({ name: "napFree" }, (ms: number) => sleep(ms));
/** With a hook on every state (the per-task cost of hooks). */
export const napHooked = task({ name: "napHooked", onRunning: () => {}, onCompletion: () => {} }, (ms: number) => sleep(ms));
