/**
 * Tasks of test/dask/sidecar-memory.test.ts (their own module: Dask workers import the module that defines a task).
 * Each tells the pid of the sidecar that ran it, so the test knows it looks at the sidecar that held the value.
 */
import { task } from "../../src/index.ts";
import { seededBytes, seededString } from "./large-tasks.ts";
import { collectGarbage } from "../../src/transfer/collect-garbage.ts";

export interface SidecarMemory {
  pid: number;
  /** Bytes of ArrayBuffers and of V8's heap in use when the task started. */
  arrayBuffers: number;
  heapUsed: number;
}

export const largeBytes = task({ name: "large-bytes" }, (mib: number) => ({ pid: process.pid, value: seededBytes(mib, 5) }));
export const largeString = task({ name: "large-string" }, (mib: number) => ({ pid: process.pid, value: seededString(mib, 5, true) }));
export const consume = task({ name: "consume" }, (value: Uint8Array) => ({ pid: process.pid, length: value.byteLength }));
export const sidecarMemory = task({ name: "sidecar-memory" }, (): SidecarMemory => {
  const { arrayBuffers, heapUsed } = process.memoryUsage();
  return { pid: process.pid, arrayBuffers, heapUsed };
});

/**
 * `times` times in this sidecar: a 32 MiB buffer, held long enough to be an old one (as a task's input is), then
 * dropped and collected. Counts the times its memory was still counted once the collection had returned.
 */
export const sweepAfterCollection = task({ name: "sweep-after-collection" }, async (times: number) => {
  const size = 32 * 2 ** 20;
  let late = 0;
  for (let i = 0; i < times; i++) {
    const held = [Buffer.allocUnsafeSlow(size).fill(i)];
    await new Promise((resolve) => setTimeout(resolve, 2));
    collectGarbage();
    collectGarbage();
    const holding = process.memoryUsage().arrayBuffers;
    held.length = 0;
    collectGarbage();
    if (process.memoryUsage().arrayBuffers > holding - size / 2) late++;
  }
  return { pid: process.pid, late };
});
