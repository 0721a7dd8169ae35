/**
 * The task engine: one task run from first attempt to final state, with retries, retry delays and jitter, and
 * per-attempt timeouts. It runs where the task runs: in the flow process for in-process runners, inside the
 * worker's sidecar for Dask (as Prefect runs its engine inside the Dask task).
 */
import { type RunScope, type TaskRunInfo, runInScope, scopeLog } from "./context.ts";
import { Cancellation } from "./cancellation.ts";
import { TaskTimeoutError } from "./errors.ts";
import {
  type State,
  AwaitingRetry,
  Cancelled,
  Completed,
  Failed,
  Retrying,
  Running,
  StateType,
  formatState,
} from "./state.ts";
import type { TaskDefinition } from "./task-definition.ts";
import type { TaskOptions } from "./options.ts";
import { fireHooks } from "../hooks/fire.ts";

export interface EngineScope extends Omit<RunScope, "taskRun"> {
  /** Every transition, the final one included. */
  onState(state: State<unknown>): void;
  /** Cancels the run from outside (future.cancel()). */
  cancel?: Cancellation;
  /** First attempt number; > 1 when a retry is resumed elsewhere (after a sidecar was recycled). */
  startAttempt?: number;
}

/** Seconds to wait before retry number `retry` (1-based). */
export function retryDelaySeconds(options: Readonly<TaskOptions>, retry: number): number {
  const delays = options.retryDelaySeconds ?? 0;
  const base = typeof delays === "number" ? delays : (delays[Math.min(retry, delays.length) - 1] ?? 0);
  const jitter = options.retryJitterFactor ?? 0;
  if (jitter === 0 || base === 0) return base;
  return Math.max(0, base * (1 + jitter * (2 * Math.random() - 1)));
}

const sleep = (ms: number, cancel?: Cancellation) =>
  new Promise<void>((resolve) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    const stopListening = cancel?.onAbort(done);
    function done() {
      clearTimeout(timer);
      stopListening?.();
      resolve();
    }
  });

function call(def: TaskDefinition, args: readonly unknown[], scope: RunScope): unknown {
  return runInScope(scope, () => (def.fn as (...a: readonly unknown[]) => unknown)(...args));
}

/** One attempt; rejects when it times out or the run is cancelled (the task's own code may go on: JS cannot be
 * interrupted here; a Dask sidecar recycles itself for that). */
function attempt(
  def: TaskDefinition,
  args: readonly unknown[],
  scope: RunScope,
  taskRun: TaskRunInfo,
  cancel: Cancellation,
): unknown {
  const timeout = def.options.timeoutSeconds;
  // Without a timeout nothing can interrupt the attempt, so no race is set up (a cancelled run's future is already
  // final; what the task returns later is ignored).
  if (timeout === undefined) return call(def, args, scope);
  return withTimeout(def, args, scope, taskRun, cancel, timeout);
}

async function withTimeout(
  def: TaskDefinition,
  args: readonly unknown[],
  scope: RunScope,
  taskRun: TaskRunInfo,
  cancel: Cancellation,
  timeout: number,
): Promise<unknown> {
  const attemptCancel = new Cancellation();
  const stopOuter = cancel.onAbort((reason) => attemptCancel.abort(reason));
  const exceeded = (cause?: unknown) =>
    new TaskTimeoutError(`Task run '${taskRun.name}' exceeded its timeout of ${timeout}s.`, cause === undefined ? undefined : { cause });
  const timer = setTimeout(() => attemptCancel.abort(exceeded()), timeout * 1000);
  taskRun.cancellation = attemptCancel;
  const deadline = Date.now() + timeout * 1000;
  try {
    const stopped = new Promise<never>((_, reject) => attemptCancel.onAbort(reject));
    const value = await Promise.race([Promise.resolve().then(() => call(def, args, scope)), stopped]);
    // A synchronous stretch (a busy loop, a blocking call) keeps the timer from firing until the task has already
    // returned: the clock decides, so a value that came too late is discarded like one that never came.
    if (Date.now() >= deadline) throw exceeded();
    return value;
  } catch (error) {
    if (!(error instanceof TaskTimeoutError) && !cancel.aborted && Date.now() >= deadline) throw exceeded(error);
    throw error;
  } finally {
    clearTimeout(timer);
    stopOuter();
    taskRun.cancellation = cancel;
  }
}

/** Runs a task to its final state. Never throws: failures become FAILED / CANCELLED states. */
export async function runTask(
  def: TaskDefinition,
  args: readonly unknown[],
  taskRun: TaskRunInfo,
  engine: EngineScope,
): Promise<State<unknown>> {
  const scope: RunScope = { ...engine, taskRun };
  const cancel = engine.cancel ?? new Cancellation();
  taskRun.cancellation = cancel;
  const retries = def.options.retries ?? 0;
  let final: State<unknown>;
  for (let run = engine.startAttempt ?? 1; ; run++) {
    taskRun.runCount = run;
    if (cancel.aborted) {
      final = Cancelled({ message: cancel.reason?.message });
      break;
    }
    if (run > 1) {
      const delay = retryDelaySeconds(def.options, run - 1);
      if (delay > 0) {
        engine.onState(AwaitingRetry({ message: `Retry ${run - 1}/${retries} in ${delay.toFixed(2)}s` }));
        await sleep(delay * 1000, cancel);
      }
    }
    const running = run > 1 ? Retrying({ message: `Attempt ${run} of ${retries + 1}` }) : Running();
    engine.onState(running);
    if (def.options.onRunning) await fireHooks(def, taskRun, running, scope);
    try {
      let value = attempt(def, args, scope, taskRun, cancel);
      if (value instanceof Promise) value = await value;
      // Cancelled while it ran on (JS cannot stop it): the run is CANCELLED, and so are the hooks it fires.
      final = cancel.aborted ? Cancelled({ message: cancel.reason?.message }) : Completed(value);
      break;
    } catch (raw) {
      const error = raw instanceof Error ? raw : new Error(String(raw));
      if (cancel.aborted) {
        final = Cancelled({ message: error.message });
        break;
      }
      if (run <= retries) {
        scopeLog(scope, "warning", `Attempt ${run} failed with ${error.name}: ${error.message} - retry ${run}/${retries} follows.`);
        continue;
      }
      scopeLog(scope, "error", `Encountered exception during execution:\n${error.stack ?? `${error.name}: ${error.message}`}`);
      const timedOut = error instanceof TaskTimeoutError;
      final = Failed(error, { name: timedOut ? "TimedOut" : "Failed", message: `Task run encountered an exception ${error.name}: ${error.message}` });
      break;
    }
  }
  // Before the state is reported: whoever waits for the run finds its hooks done (on Dask, before the result leaves).
  const hooks = fireHooks(def, taskRun, final, scope);
  if (hooks) await hooks;
  engine.onState(final);
  // One line per task run at INFO would bury a large map (the progress display counts them); a run that did not
  // complete stays at INFO, after its ERROR. The same for single runs and the items of a batch.
  scopeLog(scope, final.type === StateType.COMPLETED ? "debug" : "info", `Finished in state ${formatState(final)}`);
  return final;
}
