/** `wait(futures)` and `asCompleted(futures)`: working with many futures at once. */
import type { TaskFuture } from "./future.ts";
import { isFinal } from "./state.ts";
import { WaitTimeoutError } from "./errors.ts";

export interface DoneAndNotDone<R> {
  done: Set<TaskFuture<R>>;
  notDone: Set<TaskFuture<R>>;
}

/** Waits until every future is final, or until `timeoutSeconds`; reports which are done. Never throws for failures. */
export async function wait<R>(
  futures: Iterable<TaskFuture<R>>,
  options: { timeoutSeconds?: number } = {},
): Promise<DoneAndNotDone<R>> {
  const list = [...futures];
  await Promise.all(list.map((f) => f.wait(options.timeoutSeconds)));
  const done = new Set<TaskFuture<R>>();
  const notDone = new Set<TaskFuture<R>>();
  for (const f of list) (isFinal(f.state) ? done : notDone).add(f);
  return { done, notDone };
}

/** Yields futures as they reach a final state, in completion order. */
export async function* asCompleted<R>(
  futures: Iterable<TaskFuture<R>>,
  options: { timeoutSeconds?: number } = {},
): AsyncGenerator<TaskFuture<R>> {
  const pending = new Set(futures);
  const ready: TaskFuture<R>[] = [];
  let wake: (() => void) | undefined;
  for (const f of pending) {
    f.observed = true;
    f.onFinal(() => {
      ready.push(f);
      wake?.();
    });
  }
  const deadline = options.timeoutSeconds === undefined ? undefined : Date.now() + options.timeoutSeconds * 1000;
  while (pending.size > 0) {
    if (ready.length === 0) {
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) {
        throw new WaitTimeoutError(`${pending.size} future(s) did not finish within ${options.timeoutSeconds}s.`);
      }
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (left !== undefined) timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      wake = undefined;
      continue;
    }
    const next = ready.shift()!;
    pending.delete(next);
    yield next;
  }
}
