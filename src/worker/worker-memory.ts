/**
 * Values the Dask worker hands this sidecar in place: read straight out of the worker's memory
 * (`/proc/<worker pid>/mem`) instead of out of the request side file, which saves the worker a copy into fresh
 * shared memory (python/daskflow_bridge/worker_memory.py says why and when the worker does this).
 */
import { closeSync, openSync } from "node:fs";
import { readValue } from "../dask/framing.ts";

/** The worker's memory, if this process may read it: the worker put a token at a known address (`pid:address:token`
 * in DASKFLOW_WORKER_MEMORY), and it reads back. Ptrace rules (Yama) or a missing /proc make this undefined. */
export function openWorkerMemory(value: string | undefined): ((payload: Uint8Array) => Uint8Array) | undefined {
  const match = /^(\d+):(\d+):([0-9a-f]{32})$/.exec(value ?? "");
  if (!match) return undefined;
  let fd: number;
  try {
    fd = openSync(`/proc/${match[1]}/mem`, "r");
  } catch {
    return undefined;
  }
  try {
    if (readValue(fd, Number(match[2]), 16, "The worker's memory").toString("hex") !== match[3]) throw new Error("token differs");
  } catch {
    closeSync(fd);
    return undefined;
  }
  return (payload) => {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    return readValue(fd, Number(view.getBigUint64(0)), Number(view.getBigUint64(8)), "The worker's memory");
  };
}
