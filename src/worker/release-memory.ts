/**
 * A sidecar that moved large values for a task gives their memory back before its next task, instead of when V8
 * next decides to collect: a 100 MiB result (the task's own array, its serialized form) or a 100 MiB input is
 * garbage once the task is done, and until collected it is memory the host does not get back, which the next large
 * value then has to find elsewhere (fresh pages, slow on a VM). Only after tasks that moved at least
 * RELEASE_AFTER_BYTES through the side files or the worker's memory; small tasks never pay for a collection.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const RELEASE_AFTER_BYTES = 64 * 2 ** 20;
let collect: (() => void) | null | undefined;

/** After a task whose large values came to `moved` bytes. */
export function releaseAfterTask(moved: number): void {
  if (moved < RELEASE_AFTER_BYTES) return;
  if (collect === undefined) {
    try {
      setFlagsFromString("--expose-gc"); // V8's own gc(), reachable from a new context once the flag is set
      collect = runInNewContext("gc") as () => void;
    } catch {
      collect = null; // not this V8: leave it to V8
    }
  }
  collect?.();
}
