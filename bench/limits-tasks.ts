/** The tasks bench/limits.ts sends to Dask (their own module: workers import it). */
import { task } from "daskflow";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Under the 'db' limit. */
export const napLimited = task({ name: "napLimited", tags: ["db"] }, (ms: number) => sleep(ms));
/** The same work, unlimited. */
export const napFree = task({ name: "napFree" }, (ms: number) => sleep(ms));
/** With a hook on every state (the per-task cost of hooks). */
export const napHooked = task({ name: "napHooked", onRunning: () => {}, onCompletion: () => {} }, (ms: number) => sleep(ms));
