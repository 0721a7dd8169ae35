/** Argument wrappers: `unmapped(x)` for `map`, `allowFailure(future)` for upstreams that may fail. */
import type { TaskFuture } from "./future.ts";

const UNMAPPED = Symbol.for("daskflow.unmapped");
const ALLOW_FAILURE = Symbol.for("daskflow.allowFailure");

export interface Unmapped<T> {
  readonly [UNMAPPED]: true;
  readonly value: T;
}

export interface AllowFailure<T> {
  readonly [ALLOW_FAILURE]: true;
  readonly future: TaskFuture<T>;
}

/** Passes the same value to every call of `task.map(...)` instead of iterating over it. */
export function unmapped<T>(value: T): Unmapped<T> {
  return { [UNMAPPED]: true, value };
}

/**
 * Lets a task run even when this upstream fails: it receives the upstream's error in place of its result.
 */
export function allowFailure<T>(future: TaskFuture<T>): AllowFailure<T> {
  return { [ALLOW_FAILURE]: true, future };
}

export function isUnmapped(value: unknown): value is Unmapped<unknown> {
  return typeof value === "object" && value !== null && UNMAPPED in value;
}

export function isAllowFailure(value: unknown): value is AllowFailure<unknown> {
  return typeof value === "object" && value !== null && ALLOW_FAILURE in value;
}
