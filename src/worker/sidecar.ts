/**
 * The Node sidecar a Dask worker keeps warm (one per thread slot): it imports user modules, runs task engines and
 * answers with result envelopes. Started by the daskflow WorkerPlugin (python/daskflow_bridge/worker/plugin.py).
 */
import { markWorkerProcess } from "../core/flow.ts";
import { releaseAfterTask } from "../transfer/release-memory.ts";
import { WorkerChannel, keepsReplies, readsWorkerMemory } from "./channel.ts";
import { preload } from "./load-task.ts";
import { deliverBridgeMessage } from "./worker-bridge.ts";
import { handleBag } from "./bag/execute.ts";
import { crashEnvelope, failRun, handleRun, timeoutEnvelope } from "./run-task.ts";
import { SIDECAR_ENV, sidecarEnvList, type SidecarRequest } from "../dask/protocol.ts";

markWorkerProcess();

let queue: Promise<void> = Promise.resolve();
// Not a closure beside the request's: while it runs (and collects garbage) its scope is on the stack, and a scope
// shared with `() => dispatch(request)` would keep the finished request, its 100 MiB inputs among them, alive.
const release = () => releaseAfterTask(channel.takeMoved(), channel.keptBytes);
const reportError = (error: unknown) => {
  process.stderr.write(`daskflow sidecar: ${(error as Error).stack ?? String(error)}\n`);
};
const channel = new WorkerChannel(
  (request: SidecarRequest) => {
    // The running task's session (nested submits, clients) is answered while the task runs: never queued behind it.
    if (request.op === "bridge") return deliverBridgeMessage(request.message);
    // The worker sends one request at a time; chaining keeps that order if it ever does not.
    queue = queue.then(() => dispatch(request)).then(release).catch(reportError);
  },
  () => process.exit(0),
);

async function dispatch(request: SidecarRequest): Promise<void> {
  const send = channel.send.bind(channel);
  switch (request.op) {
    case "run":
      try {
        return await handleRun(request, send);
      } catch (error) {
        // Never leave the worker waiting: a run that broke here still ends, FAILED with the reason.
        return failRun(request, error as Error, send);
      }
    case "timeout-envelope":
      return timeoutEnvelope(request, send);
    case "crash-envelope":
      return crashEnvelope(request, send);
    case "bag":
      return handleBag(request, send);
  }
}

channel.send({ op: "ready", pid: process.pid, node: process.version, memory: readsWorkerMemory, keep: keepsReplies });
preload(sidecarEnvList(SIDECAR_ENV.preload));
