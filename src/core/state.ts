/** Run states, named and shaped as Prefect's: a type, a display name, a message and the data or error. */
import type { SerializedError } from "./errors.ts";

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

function make<R>(type: StateType, name: string, extra: Partial<State<R>> = {}): State<R> {
  return { type, name, timestamp: Date.now(), ...extra };
}

export const Pending = <R>(extra?: Partial<State<R>>) => make<R>(StateType.PENDING, "Pending", extra);
export const Scheduled = <R>(extra?: Partial<State<R>>) => make<R>(StateType.SCHEDULED, "Scheduled", extra);
export const AwaitingRetry = <R>(extra?: Partial<State<R>>) =>
  make<R>(StateType.SCHEDULED, "AwaitingRetry", extra);
export const Running = <R>(extra?: Partial<State<R>>) => make<R>(StateType.RUNNING, "Running", extra);
export const Retrying = <R>(extra?: Partial<State<R>>) => make<R>(StateType.RUNNING, "Retrying", extra);
export const Completed = <R>(data: R, extra?: Partial<State<R>>) =>
  make<R>(StateType.COMPLETED, "Completed", { data, ...extra });
export const Failed = <R>(error: Error, extra?: Partial<State<R>>) =>
  make<R>(StateType.FAILED, "Failed", { error, message: error.message, ...extra });
export const Crashed = <R>(error: Error, extra?: Partial<State<R>>) =>
  make<R>(StateType.CRASHED, "Crashed", { error, message: error.message, ...extra });
export const Cancelled = <R>(extra?: Partial<State<R>>) => make<R>(StateType.CANCELLED, "Cancelled", extra);
export const NotReady = <R>(message: string) => make<R>(StateType.PENDING, "NotReady", { message });

/** Prefect's display form: `Completed()`, `Failed('boom')`. */
export function formatState(state: State<unknown> | StateRecord): string {
  return state.message ? `${state.name}(${JSON.stringify(state.message)})` : `${state.name}()`;
}
