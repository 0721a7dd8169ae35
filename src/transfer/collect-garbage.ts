/**
 * A full garbage collection on demand, where daskflow knows memory can be given back now rather than when V8 next
 * decides to collect: a sidecar after a task that moved large values (src/transfer/release-memory.ts), the flow process
 * to find the task results its code dropped (src/dask/task-lifetimes.ts). V8's own gc(), reachable from a new context
 * once the flag is set; on a V8 that does not allow it, nothing happens.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect: (() => void) | null | undefined;

/** Collects garbage now; false when this V8 does not let us. */
export function collectGarbage(): boolean {
  if (collect === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc") as () => void;
    } catch {
      collect = null;
    }
  }
  collect?.();
  return collect !== null;
}
