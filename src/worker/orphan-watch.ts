/**
 * Ends the sidecar when its Dask worker is gone. A sidecar busy in a synchronous task cannot see its request pipe
 * close, so a watcher thread checks the parent pid and kills the process from outside the busy event loop.
 */
import { Worker } from "node:worker_threads";

const WATCHER = `
const { workerData } = require("node:worker_threads");
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(workerData.self, "SIGKILL");
}, 1000);
`;

export function watchParent(): void {
  const watcher = new Worker(WATCHER, { eval: true, workerData: { parent: process.ppid, self: process.pid } });
  watcher.unref();
}
