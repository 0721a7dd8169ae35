/**
 * The recorder's writer, in a worker thread of the flow process: it opens the store and runs each batch's
 * transaction there, so the flow process's main thread (which handles the runner's events) never waits on SQLite
 * or PostgreSQL. Messages: { id, batch } or { id, prune: before }; each is answered { id } or { id, error }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openHistory } from "./index.ts";
import type { WriteBatch } from "./sql-store.ts";

const url = (workerData as { url?: string }).url;
const store = openHistory(url === undefined ? {} : { url });
store.catch(() => {}); // reported with the first message's answer

parentPort!.on("message", (m: { id: number; batch?: WriteBatch; prune?: number }) => {
  store
    .then(async (s) => void (m.prune !== undefined ? await s.prune(m.prune) : await s.write(m.batch!)))
    .then(
      () => parentPort!.postMessage({ id: m.id }),
      (error: Error) => parentPort!.postMessage({ id: m.id, error: error.message }),
    );
});
