/**
 * The rule of a client's scope: every future it made is resolved (its result or state read, gathered,
 * passed on, or cancelled) before the scope ends. Dask drops the work of a closed client; daskflow makes that loud.
 */
import { DaskflowError } from "../../core/errors.ts";
import { formatState } from "../../core/state.ts";
import type { TaskFuture } from "../../core/future.ts";
import type { DaskFuture } from "./future.ts";

export class UnresolvedFuturesError extends DaskflowError {
  override name = "UnresolvedFuturesError";

  constructor(
    message: string,
    /** What was left unresolved, by description (e.g. `submit(operator.add)` or `Task run 'double-abc'`). */
    readonly unresolved: readonly string[],
  ) {
    super(message);
  }
}

export type ClientFuture = DaskFuture<unknown> | TaskFuture<unknown>;

function describe(f: ClientFuture): string {
  return "taskRunName" in f ? `task run '${f.taskRunName}' (${formatState(f.state)})` : `${f.description} [${f.key}]`;
}

/** The error for the futures left unresolved when a client's scope ended (after their work finished), if any. */
export function unresolvedError(futures: Iterable<ClientFuture>, late?: { running: ClientFuture[]; seconds: number }): UnresolvedFuturesError | undefined {
  const left = [...futures].map(describe);
  if (left.length === 0) return undefined;
  const shown = left.slice(0, 10).join(", ");
  const more = left.length > 10 ? ` and ${left.length - 10} more` : "";
  const waited = late?.running.length
    ? `The client waited ${late.seconds}s (closeTimeoutSeconds) for their work; ${late.running.length} still running then were cancelled: ${late.running.slice(0, 10).map(describe).join(", ")}. `
    : "The client waited for their work to finish, but their values were never read and are gone now. ";
  return new UnresolvedFuturesError(
    `The Dask client's scope ended with ${left.length} unresolved future(s): ${shown}${more}. ` +
      waited +
      "Inside the scope, read each one (`await future.result()`, or `await future.wait()` for a task run's state; a DaskFuture may also be awaited itself), pass it to another submit, use `await client.gather(...)`, or cancel it.",
    left,
  );
}
