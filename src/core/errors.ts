/**
 * Error classes with stable names. Errors that cross a process boundary travel as plain
 * `{ name, message, stack }` records and are re-created here by name, keeping the remote stack. (FlowRunError, which
 * carries a state, lives in state.ts: states are made of these errors, not the other way round.)
 */

export class DaskflowError extends Error {
  override name = "DaskflowError";
}

/** Bad options or arguments given by the caller; the message says what to do instead. */
export class InvalidOptionError extends DaskflowError {
  override name = "InvalidOptionError";
}

/** `getRunLogger()` / `getRunContext()` called outside a flow or task run. */
export class MissingContextError extends DaskflowError {
  override name = "MissingContextError";
}

/** A task attempt ran past its `timeoutSeconds`. */
export class TaskTimeoutError extends DaskflowError {
  override name = "TaskTimeoutError";
}

/** `future.result({ timeoutSeconds })` gave up before the task finished. */
export class WaitTimeoutError extends DaskflowError {
  override name = "WaitTimeoutError";
}

/** Result of a cancelled run was requested. */
export class CancelledRunError extends DaskflowError {
  override name = "CancelledRunError";
}

/** The infrastructure running a task failed (worker or sidecar death, bridge exit). */
export class CrashedRunError extends DaskflowError {
  override name = "CrashedRunError";
}

/** The result of a task that did not run because an upstream did not complete. */
export class UpstreamTaskError extends DaskflowError {
  override name = "UpstreamTaskError";
}

/** A value that cannot be sent to another process, with the path of the offending part. */
export class SerializationError extends DaskflowError {
  override name = "SerializationError";
}

/** An error raised on the far side of a process boundary whose class is not known here. */
export class RemoteError extends DaskflowError {
  override name = "RemoteError";
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

const knownErrors: Record<string, new (message: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  DaskflowError,
  InvalidOptionError,
  MissingContextError,
  TaskTimeoutError,
  WaitTimeoutError,
  CancelledRunError,
  CrashedRunError,
  UpstreamTaskError,
  SerializationError,
  RemoteError,
};

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: error.message };
    if (error.stack !== undefined) out.stack = error.stack;
    return out;
  }
  return { name: "Error", message: String(error) };
}

/** Re-create an error by name; unknown names keep their name on a plain Error so `err.name` still tells. */
export function deserializeError(record: SerializedError): Error {
  const Ctor = knownErrors[record.name];
  const error = Ctor ? new Ctor(record.message) : new Error(record.message);
  if (!Ctor) Object.defineProperty(error, "name", { value: record.name, configurable: true, writable: true });
  if (record.stack !== undefined) error.stack = record.stack;
  return error;
}
