/**
 * A task run's upstreams for the history: the ids of the futures among its arguments (at any depth) and `waitFor`.
 * Unlike the engine's walk (core/upstream.ts) it marks nothing as observed, and it stops looking after a budget of
 * nodes, so a task given a large array costs the recorder little.
 */
import { isTaskFuture } from "../core/future.ts";
import { forEachDeep } from "../core/walk.ts";
import { isAllowFailure } from "../core/wrappers.ts";

const BUDGET = 1000;

export function upstreamIds(args: readonly unknown[], waitFor: readonly unknown[]): string[] {
  let ids: Set<string> | undefined;
  let budget = BUDGET;
  const visit = (v: unknown): boolean => {
    if (--budget < 0) return false;
    if (isTaskFuture(v)) return (ids ??= new Set()).add(v.taskRunId), false;
    if (isAllowFailure(v)) return (ids ??= new Set()).add(v.future.taskRunId), false;
    return typeof v === "object" && v !== null;
  };
  forEachDeep(args, visit);
  if (waitFor.length) forEachDeep(waitFor, visit);
  return ids ? [...ids] : [];
}
