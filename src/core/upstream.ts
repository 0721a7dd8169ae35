/** Upstream handling shared by every runner: which futures an argument list depends on, and what a task does when
 * one of them did not complete (it does not run: it ends PENDING "NotReady", as in Prefect). */
import { type TaskFuture, isTaskFuture, stateError } from "./future.ts";
import { type State, StateType, NotReady } from "./state.ts";
import { KEEP, forEachDeep, mapDeep } from "./walk.ts";
import { isAllowFailure } from "./wrappers.ts";

export interface Upstream {
  future: TaskFuture<unknown>;
  /** Wrapped in `allowFailure(...)`: the task runs whatever the upstream's final state. */
  allowFailure: boolean;
}

/** Futures found at any depth of `args`, plus `waitFor`, each once (allowFailure wins if both appear). */
export function collectUpstreams(args: readonly unknown[], waitFor: readonly unknown[] = []): Upstream[] {
  const found = new Map<TaskFuture<unknown>, Upstream>();
  const add = (future: TaskFuture<unknown>, allowFailure: boolean) => {
    future.observed = true;
    const seen = found.get(future);
    if (seen) seen.allowFailure ||= allowFailure;
    else found.set(future, { future, allowFailure });
  };
  const visit = (v: unknown): boolean => {
    if (isTaskFuture(v)) return add(v, false), false;
    if (isAllowFailure(v)) return add(v.future, true), false;
    return true;
  };
  forEachDeep(args, visit);
  forEachDeep(waitFor, visit);
  return [...found.values()];
}

/** Which upstream task run a NotReady state names: its id (unique) and its name (what logs show). */
export interface UpstreamRun {
  id: string;
  name: string;
}

/** The NotReady state for a task whose upstream ended in `upstream`, or undefined when it may run. */
export function notReadyFor(run: UpstreamRun, upstream: Pick<State<unknown>, "type" | "name">, allowFailure: boolean): State<never> | undefined {
  if (upstream.type === StateType.COMPLETED || allowFailure) return undefined;
  return NotReady(`Upstream task run '${run.name}' (id ${run.id}) did not reach a 'COMPLETED' state (it ended ${upstream.name}).`);
}

/** The upstream run of a future, as NotReady names it. */
export const upstreamRun = (future: TaskFuture<unknown>): UpstreamRun => ({ id: future.taskRunId, name: future.taskRunName });

/** Replaces futures in `args` by their values (or, under allowFailure, by their error when they failed). */
export async function resolveFutures(args: unknown[]): Promise<unknown[]> {
  const values = new Map<TaskFuture<unknown>, unknown>();
  const pending: Promise<void>[] = [];
  forEachDeep(args, (v) => {
    const future = isTaskFuture(v) ? v : isAllowFailure(v) ? v.future : undefined;
    if (!future) return true;
    if (!values.has(future)) {
      values.set(future, undefined);
      pending.push(
        future.wait().then(async (state) => {
          values.set(future, state.type === StateType.COMPLETED ? await future.loadData(state) : stateError(state, future.taskRunName));
        }),
      );
    }
    return false;
  });
  if (pending.length === 0) return args;
  await Promise.all(pending);
  return mapDeep(args, (v) => {
    if (isTaskFuture(v)) return values.get(v);
    if (isAllowFailure(v)) return values.get(v.future);
    return KEEP;
  }) as unknown[];
}
