/**
 * A sidecar that moved large values for a task gives their memory back before its next task, instead of when V8
 * next decides to collect: a 100 MiB result (the task's own array, its serialized form) or a 100 MiB input is
 * garbage once the task is done, and until collected it is memory the host does not get back, which the next large
 * value then has to find elsewhere (fresh pages, slow on a VM). Only after tasks that moved at least
 * RELEASE_AFTER_BYTES through the side files or the worker's memory; small tasks never pay for a collection.
 *
 * One collection is not enough for a task's result: measured in a sidecar, a 100 MiB result (a Uint8Array, or a
 * string) survived the collection right after its task and stayed resident until the next task's collection,
 * seconds later, while a second collection at once let it go (what still reached it at the first is not known: no
 * heap snapshot shows it, since taking one collects more than once). So when the large values' worth of memory is
 * still in use after the first (besides what the sidecar keeps on purpose), a second follows (a few ms on a
 * sidecar's small heap; test/dask/sidecar-memory.test.ts).
 *
 * The memory of an ArrayBuffer found dead is given back by V8's array buffer sweeper, on a background thread after
 * the collection has returned: right after the second collection a 96 MiB input was still counted in 4 of 160
 * tasks (process.memoryUsage), gone 100 ms later. So the sidecar sweeps them during the collection itself, and its
 * memory is back when its next task starts, whatever the machine's load. The price, a few ms of freeing in the
 * collection's pause instead of beside it, is paid only where there was memory to give back.
 */
import { setFlagsFromString } from "node:v8";
import { collectGarbage } from "./collect-garbage.ts";

const RELEASE_AFTER_BYTES = 64 * 2 ** 20;
setFlagsFromString("--no-concurrent-array-buffer-sweeping");

/** After a task whose large values came to `moved` bytes; `kept`: bytes the sidecar holds on purpose. */
export function releaseAfterTask(moved: number, kept = 0): void {
  if (moved < RELEASE_AFTER_BYTES || !collectGarbage()) return;
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  if (heapUsed + arrayBuffers - kept >= RELEASE_AFTER_BYTES) collectGarbage();
}
