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
 */
import { collectGarbage } from "../core/collect-garbage.ts";

const RELEASE_AFTER_BYTES = 64 * 2 ** 20;

/** After a task whose large values came to `moved` bytes; `kept`: bytes the sidecar holds on purpose. */
export function releaseAfterTask(moved: number, kept = 0): void {
  if (moved < RELEASE_AFTER_BYTES || !collectGarbage()) return;
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  if (heapUsed + arrayBuffers - kept >= RELEASE_AFTER_BYTES) collectGarbage();
}
