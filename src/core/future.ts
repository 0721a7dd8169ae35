/**
 * TaskFuture: the handle `task.submit()` returns. Its state is updated by whichever runner owns the task run
 * (in-process, or from events a Dask worker sends), and its result may be loaded lazily from where it lives.
 */
import { WaitTimeoutError } from "./errors.ts";
import { type State, StateType, Pending, isFinal, formatState, stateError } from "./state.ts";
import { observing } from "./observer.ts";

export { stateError };

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
export const setDaskKey = Symbol("daskflow.setDaskKey");

const FUTURE_BRAND = Symbol.for("daskflow.TaskFuture");

export class TaskFuture<R> {
  readonly [FUTURE_BRAND] = true;
  #state: State<R>;
  #final: Promise<State<R>> | undefined;
  #owner: FutureOwner | undefined;
  #listeners: Array<(state: State<R>) => void> = [];
  #loaded: Promise<R> | undefined;
  #daskKey: string | undefined;
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

  /**
   * The key of the Dask task that runs it, as the Dask dashboard and `client.futures` show it (it begins with the
   * task's name; the items of a batched `map` share their batch's key). Undefined on runners other than Dask.
   */
  get daskKey(): string | undefined {
    return this.#daskKey;
  }

  /** @internal Set by the Dask runner when it submits the run. */
  [setDaskKey](key: string): void {
    this.#daskKey = key;
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
    // After the listeners: the first of them may add where a persisted result is (src/results/durable.ts).
    observing.observer?.taskState(this, state);
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
  // The overload returning R comes last: it is the one a structural `{ result(): Promise<T> }` matches.
  result(options: ResultOptions & { raiseOnFailure: false }): Promise<R | Error>;
  result(options: ResultOptions & { raiseOnFailure: boolean }): Promise<R | Error>;
  result(options?: ResultOptions & { raiseOnFailure?: true }): Promise<R>;
  async result(options: ResultOptions = {}): Promise<R | Error> {
    const { timeoutSeconds } = options;
    const started = Date.now();
    const state = await this.wait(timeoutSeconds);
    if (!isFinal(state)) {
      throw new WaitTimeoutError(`Task run '${this.taskRunName}' did not finish within ${timeoutSeconds}s (state ${formatState(state)}).`);
    }
    const result = stateResult(state, options.raiseOnFailure ?? true, this);
    if (timeoutSeconds === undefined || !state.load) return result;
    // The bound covers the whole call: a result that lives elsewhere may be slow to arrive, or to decode.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new WaitTimeoutError(`Task run '${this.taskRunName}' finished (${formatState(state)}), but its result did not arrive within ${timeoutSeconds}s.`)),
        Math.max(0, started + timeoutSeconds * 1000 - Date.now()),
      );
    });
    try {
      return await Promise.race([result, late]);
    } finally {
      clearTimeout(timer);
    }
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

async function stateResult<R>(state: State<R>, raise: boolean, future: TaskFuture<R>): Promise<R | Error> {
  if (state.type === StateType.COMPLETED) return future.loadData(state);
  const error = stateError(state, future.taskRunName);
  if (raise) throw error;
  return error;
}

export function isTaskFuture(value: unknown): value is TaskFuture<unknown> {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[FUTURE_BRAND] === true;
}
