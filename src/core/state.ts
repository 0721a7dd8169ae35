/** Run states, named and shaped as Prefect's: a type, a display name, a message and the data or error. */
import { CancelledRunError, CrashedRunError, DaskflowError, UpstreamTaskError, type SerializedError } from "./errors.ts";

export const StateType = {
  PENDING: "PENDING",
  SCHEDULED: "SCHEDULED",
  RUNNING: "RUNNING",
  COMPLETED: "COMPLETED",
  FAILED: "FAILED",
  CRASHED: "CRASHED",
  CANCELLED: "CANCELLED",
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];

export interface State<R = unknown> {
  readonly type: StateType;
  /** Display name, e.g. "Completed", "NotReady", "AwaitingRetry", "TimedOut". */
  readonly name: string;
  readonly message?: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  /** The error of a FAILED or CRASHED state. */
  readonly error?: Error;
  /** The value of a COMPLETED state when it is held locally. */
  readonly data?: R;
  /** For results held elsewhere (on a Dask cluster): loads `data` on demand. */
  readonly load?: () => Promise<R>;
  /**
   * A failed or crashed flow run's state: every part that did not complete, the task runs of the run and the
   * states in its return value (those with their `path` in it, e.g. `result.items[2]`).
   */
  readonly failures?: readonly FailedPart[];
  /** A task run whose result was persisted or looked up: its key in the result storage (docs/durable-runs.md). */
  readonly cacheKey?: string;
  /** True when the value came from the result storage (the state is named "Cached"). */
  readonly cacheHit?: boolean;
  /** Where the persisted value is. */
  readonly resultLocation?: string;
  /**
   * A completed state's value (loaded from the cluster when it lives there). A failed, crashed or cancelled state
   * (and a task that never ran, NotReady) throws its error, or returns it with `raiseOnFailure: false`. A state
   * that is not final has no result yet: that throws either way.
   */
  result(options: { raiseOnFailure: false }): Promise<R | Error>;
  result(options: { raiseOnFailure: boolean }): Promise<R | Error>;
  result(options?: { raiseOnFailure?: true }): Promise<R>;
}

export interface StateResultOptions {
  /** When false, a failed state's error is returned instead of thrown. Default true. */
  raiseOnFailure?: boolean;
}

/** A part of a flow run that did not complete. */
export interface FailedPart {
  /** Where it sits in the flow's return value (`result`, `result.items[2]`); absent when the flow did not return it. */
  readonly path?: string;
  /** The task run, when the part is a task run's future (or a task run the flow submitted). */
  readonly taskRunId?: string;
  readonly taskRunName?: string;
  readonly state: State<unknown>;
}

/** A state as it crosses a process boundary (no data, error as a record). */
export interface StateRecord {
  type: StateType;
  name: string;
  message?: string;
  timestamp: number;
  error?: SerializedError;
}

const FINAL: ReadonlySet<StateType> = new Set([
  StateType.COMPLETED,
  StateType.FAILED,
  StateType.CRASHED,
  StateType.CANCELLED,
]);

export function isFinal(state: State<unknown> | StateRecord): boolean {
  return FINAL.has(state.type) || isNotReady(state);
}

/** A task that will never run because an upstream did not complete (Prefect's PENDING "NotReady"). */
export function isNotReady(state: State<unknown> | StateRecord): boolean {
  return state.type === StateType.PENDING && state.name === "NotReady";
}

/** What a state may be made with: everything but its methods. */
export type StateFields<R> = Partial<Omit<State<R>, "result">>;

function make<R>(type: StateType, name: string, extra: StateFields<R> = {}): State<R> {
  const state = { type, name, timestamp: Date.now(), ...extra } as State<R>;
  // Not enumerable: a state prints, compares and spreads as the data it is.
  Object.defineProperty(state, "result", { value: stateResult, enumerable: false });
  return state;
}

/** A copy of `state` with some fields replaced (its timestamp kept). */
export function withFields<R>(state: State<R>, extra: StateFields<R>): State<R> {
  return make<R>(state.type, state.name, { ...state, ...extra });
}

/** A plain state of a given type and name (for states re-created from records that crossed a process boundary). */
export function makeState<R>(type: StateType, name: string, extra: StateFields<R> = {}): State<R> {
  return make<R>(type, name, extra);
}

async function stateResult<R>(this: State<R>, options: StateResultOptions = {}): Promise<R | Error> {
  if (this.type === StateType.COMPLETED) return this.load ? this.load() : (this.data as R);
  if (!isFinal(this)) throw new DaskflowError(`The run is not finished (state ${formatState(this)}): it has no result yet. Wait for it first.`);
  const error = stateError(this, "run");
  if (options.raiseOnFailure ?? true) throw error;
  return error;
}

/** The error a non-completed final state stands for. */
export function stateError(state: State<unknown>, runName: string): Error {
  if (state.error) return state.error;
  switch (state.type) {
    case StateType.CANCELLED:
      return new CancelledRunError(state.message ?? `Task run '${runName}' was cancelled.`);
    case StateType.CRASHED:
      return new CrashedRunError(state.message ?? `Task run '${runName}' crashed.`);
    default:
      return new UpstreamTaskError(state.message ?? `Task run '${runName}' did not complete: ${formatState(state)}.`);
  }
}

export const Pending = <R>(extra?: StateFields<R>) => make<R>(StateType.PENDING, "Pending", extra);
export const Scheduled = <R>(extra?: StateFields<R>) => make<R>(StateType.SCHEDULED, "Scheduled", extra);
export const AwaitingRetry = <R>(extra?: StateFields<R>) =>
  make<R>(StateType.SCHEDULED, "AwaitingRetry", extra);
export const Running = <R>(extra?: StateFields<R>) => make<R>(StateType.RUNNING, "Running", extra);
export const Retrying = <R>(extra?: StateFields<R>) => make<R>(StateType.RUNNING, "Retrying", extra);
export const Completed = <R>(data: R, extra?: StateFields<R>) =>
  make<R>(StateType.COMPLETED, "Completed", { data, ...extra });
export const Failed = <R>(error: Error, extra?: StateFields<R>) =>
  make<R>(StateType.FAILED, "Failed", { error, message: error.message, ...extra });
export const Crashed = <R>(error: Error, extra?: StateFields<R>) =>
  make<R>(StateType.CRASHED, "Crashed", { error, message: error.message, ...extra });
export const Cancelled = <R>(extra?: StateFields<R>) => make<R>(StateType.CANCELLED, "Cancelled", extra);
export const NotReady = <R>(message: string) => make<R>(StateType.PENDING, "NotReady", { message });

/** Prefect's display form: `Completed()`, `Failed('boom')`. */
export function formatState(state: State<unknown> | StateRecord): string {
  return state.message ? `${state.name}(${JSON.stringify(state.message)})` : `${state.name}()`;
}

/** A flow run ended in a failed or crashed state. `state` is that final state. */
export class FlowRunError extends DaskflowError {
  override name = "FlowRunError";
  constructor(
    message: string,
    readonly state: State<unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
