/**
 * TaskFuture: the handle `task.submit()` returns. Its state is updated by whichever runner owns the task run
 * (in-process, or from events a Dask worker sends), and its result may be loaded lazily from where it lives.
 */
import { CancelledRunError, CrashedRunError, UpstreamTaskError, WaitTimeoutError } from "./errors.ts";
import { type State, StateType, Pending, isFinal, formatState } from "./state.ts";

export interface ResultOptions {
  /** Give up waiting after this many seconds (throws `WaitTimeoutError`). */
  timeoutSeconds?: number;
  /** When false, a failed task's error is returned instead of thrown. Default true. */
  raiseOnFailure?: boolean;
}

/** What a runner offers a future: cancelling the run it belongs to. */
export interface FutureOwner {
  cancel(future: TaskFuture<unknown>): boolean;
}

/** Internal hooks, not part of the public surface. */
export const setFutureState = Symbol("daskflow.setFutureState");

const FUTURE_BRAND = Symbol.for("daskflow.TaskFuture");

export class TaskFuture<R> {
  readonly [FUTURE_BRAND] = true;
  #state: State<R>;
  #final: Promise<State<R>> | undefined;
  #owner: FutureOwner | undefined;
  #listeners: Array<(state: State<R>) => void> = [];
  #loaded: Promise<R> | undefined;
  /** True once someone waited on it, read its result or passed it to another task. */
  observed = false;

  constructor(
    readonly taskRunId: string,
    readonly taskRunName: string,
    owner?: FutureOwner,
  ) {
    this.#state = Pending();
    this.#owner = owner;
  }

  /** The last known state. */
  get state(): State<R> {
    return this.#state;
  }

  get done(): boolean {
    return isFinal(this.#state);
  }

  /** @internal Runners report transitions here; a final state is kept, later ones ignored. */
  [setFutureState](state: State<R>): void {
    if (isFinal(this.#state)) return;
    this.#state = state;
    if (isFinal(state)) {
      for (const listener of this.#listeners) listener(state);
      this.#listeners = [];
    }
  }

  /** @internal Called once with the final state. */
  onFinal(listener: (state: State<R>) => void): void {
    if (isFinal(this.#state)) listener(this.#state);
    else this.#listeners.push(listener);
  }

  /** Resolves with the final state (never throws for a failed task); after `timeoutSeconds`, with the current one. */
  async wait(timeoutSeconds?: number): Promise<State<R>> {
    this.observed = true;
    if (isFinal(this.#state)) return this.#state;
    // Made on first wait only: most futures are read once, after they finished.
    this.#final ??= new Promise((resolve) => this.onFinal(resolve));
    if (timeoutSeconds === undefined) return this.#final;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<State<R>>((resolve) => {
      timer = setTimeout(() => resolve(this.#state), Math.max(0, timeoutSeconds * 1000));
    });
    try {
      return await Promise.race([this.#final, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The task's return value. Throws the task's error when it failed, unless `raiseOnFailure: false`. */
  async result(options: ResultOptions = {}): Promise<R> {
    const state = await this.wait(options.timeoutSeconds);
    if (!isFinal(state)) {
      throw new WaitTimeoutError(
        `Task run '${this.taskRunName}' did not finish within ${options.timeoutSeconds}s (state ${formatState(state)}).`,
      );
    }
    return stateResult(state, options.raiseOnFailure ?? true, this);
  }

  /** @internal Loads a completed state's data once (it may live on a Dask cluster). */
  loadData(state: State<R>): Promise<R> {
    if (!state.load) return Promise.resolve(state.data as R);
    this.#loaded ??= state.load();
    return this.#loaded;
  }

  /** Asks the runner to cancel the run; true when the request was taken. */
  cancel(): boolean {
    if (isFinal(this.#state)) return false;
    return this.#owner?.cancel(this as TaskFuture<unknown>) ?? false;
  }

  toString(): string {
    return `TaskFuture(${this.taskRunName}, ${formatState(this.#state)})`;
  }
}

/** The error a non-completed final state stands for. */
export function stateError(state: State<unknown>, runName: string): Error {
  if (state.error) return state.error;
  switch (state.type) {
    case StateType.CANCELLED:
      return new CancelledRunError(`Task run '${runName}' was cancelled.`);
    case StateType.CRASHED:
      return new CrashedRunError(state.message ?? `Task run '${runName}' crashed.`);
    default:
      return new UpstreamTaskError(state.message ?? `Task run '${runName}' did not complete: ${formatState(state)}.`);
  }
}

async function stateResult<R>(state: State<R>, raise: boolean, future: TaskFuture<R>): Promise<R> {
  if (state.type === StateType.COMPLETED) return future.loadData(state);
  const error = stateError(state, future.taskRunName);
  if (raise) throw error;
  return error as unknown as R;
}

export function isTaskFuture(value: unknown): value is TaskFuture<unknown> {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[FUTURE_BRAND] === true;
}
