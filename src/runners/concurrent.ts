/**
 * ConcurrentTaskRunner: runs submitted tasks in the flow process, concurrently on the event loop (the counterpart
 * of Prefect's default thread-pool runner). `maxWorkers` bounds how many run at once.
 */
import { currentScope, rootScope, scopeLog } from "../core/context.ts";
import { Cancellation } from "../core/cancellation.ts";
import { runTask } from "../core/engine.ts";
import { CancelledRunError } from "../core/errors.ts";
import { type TaskFuture, setFutureState } from "../core/future.ts";
import { validateOptions } from "../core/options.ts";
import { Cancelled, formatState } from "../core/state.ts";
import { collectUpstreams, notReadyFor, resolveFutures, upstreamRun } from "../core/upstream.ts";
import type { TaskRunner, TaskSubmission } from "../core/task-runner.ts";
import { type ConcurrencyLimits, checkConcurrencyLimits, resolveLimits } from "../limits/options.ts";
import { CONCURRENCY_SLOTS, LocalSlots } from "../limits/slots.ts";
import { waitForSlots } from "../limits/local-runner.ts";
import { fireHooks } from "../hooks/fire.ts";

export interface ConcurrentTaskRunnerOptions {
  /** Most task runs executing at once; default unbounded. */
  maxWorkers?: number;
  /** Most task runs with a tag running at once, e.g. `{ db: 3 }` (slots in this process; see DaskTaskRunner). */
  concurrencyLimits?: ConcurrencyLimits;
}

export class ConcurrentTaskRunner implements TaskRunner {
  readonly name = "ConcurrentTaskRunner";
  readonly options: Readonly<ConcurrentTaskRunnerOptions>;
  #running = 0;
  #waiting: Array<() => void> = [];
  #cancels = new Map<TaskFuture<unknown>, Cancellation>();
  readonly #slots: LocalSlots;

  constructor(options: ConcurrentTaskRunnerOptions = {}) {
    this.options = validateOptions<ConcurrentTaskRunnerOptions>("ConcurrentTaskRunner", options, {
      maxWorkers: (v) => (Number.isInteger(v) && (v as number) >= 1 ? undefined : `must be a whole number >= 1, got ${String(v)}`),
      concurrencyLimits: checkConcurrencyLimits,
    });
    this.#slots = new LocalSlots(resolveLimits(this.options.concurrencyLimits, Math.random().toString(36).slice(2)));
  }

  /** @internal concurrency() inside this runner's runs. */
  [CONCURRENCY_SLOTS](): LocalSlots {
    return this.#slots;
  }

  submit(submission: TaskSubmission): void {
    const cancel = new Cancellation();
    this.#cancels.set(submission.future, cancel);
    void this.#run(submission, cancel);
  }

  async #run(s: TaskSubmission, cancel: Cancellation): Promise<void> {
    const scope = currentScope() ?? rootScope();
    const setState = (state: Parameters<TaskFuture<unknown>[typeof setFutureState]>[0]) => s.future[setFutureState](state);
    const upstreams = collectUpstreams(s.args, s.waitFor);
    try {
      for (const { future, allowFailure } of upstreams) {
        const notReady = notReadyFor(upstreamRun(future), await future.wait(), allowFailure);
        if (notReady) {
          setState(notReady);
          scopeLog({ ...scope, taskRun: s.taskRun }, "info", `Finished in state ${formatState(notReady)}`);
          return;
        }
      }
      // Tag slots first: a run waiting for one holds no maxWorkers slot.
      const waiting = waitForSlots(this.#slots, s, scope, setState, cancel);
      const tagged = waiting instanceof Promise ? await waiting : waiting;
      if (tagged === undefined) return;
      const slot = this.#acquire();
      if (slot) await slot;
      try {
        // Cancelled while it waited for a slot: the engine never saw it, so its hooks fire here.
        if (cancel.aborted) return void (await fireHooks(s.task, s.taskRun, s.future.state, { ...scope, taskRun: s.taskRun }));
        const args = upstreams.length ? await resolveFutures([...s.args]) : s.args;
        await runTask(s.task, args, s.taskRun, { ...scope, runner: this, onState: setState, cancel });
      } finally {
        this.#release();
        await tagged();
      }
    } finally {
      this.#cancels.delete(s.future);
    }
  }

  /** Takes a slot; a promise only when all slots are busy. */
  #acquire(): Promise<void> | undefined {
    const max = this.options.maxWorkers;
    if (max === undefined || this.#running < max) {
      this.#running++;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(() => (this.#running++, resolve())));
  }

  #release(): void {
    this.#running--;
    this.#waiting.shift()?.();
  }

  cancel(future: TaskFuture<unknown>): boolean {
    const cancel = this.#cancels.get(future);
    if (!cancel) return false;
    const message = `Task run '${future.taskRunName}' was cancelled.`;
    future[setFutureState](Cancelled({ message }));
    cancel.abort(new CancelledRunError(message));
    return true;
  }

  async shutdown(): Promise<void> {}

  duplicate(): ConcurrentTaskRunner {
    return new ConcurrentTaskRunner(this.options);
  }

  equals(other: unknown): boolean {
    return other instanceof ConcurrentTaskRunner && other.options.maxWorkers === this.options.maxWorkers && JSON.stringify(other.options.concurrencyLimits) === JSON.stringify(this.options.concurrencyLimits);
  }
}
