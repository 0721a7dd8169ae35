/**
 * Values the Dask worker hands this sidecar in place: read straight out of the worker's memory
 * (`/proc/<worker pid>/mem`) instead of out of the request side file, which saves the worker a copy into fresh
 * shared memory (python/daskflow_bridge/worker_memory.py says why and when the worker does this).
 */
import { openProcessMemory } from "../dask/process-memory.ts";

/** The ext reader of values in the worker's memory (payload: address and length, big-endian u64), if this process
 * may read it (DASKFLOW_WORKER_MEMORY names the worker's token; src/dask/process-memory.ts). */
export function openWorkerMemory(value: string | undefined): ((payload: Uint8Array) => Uint8Array) | undefined {
  const memory = openProcessMemory(value, "The worker's memory");
  if (!memory) return undefined;
  return (payload) => {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    return memory.read(Number(view.getBigUint64(0)), Number(view.getBigUint64(8)));
  };
}
