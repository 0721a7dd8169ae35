/**
 * Requests waiting for their replies, for both transports (the bridge process, a task's session through its worker).
 * A reply to a request that asks for no user work (a query, shipping code, starting the cluster) has a bound: past
 * it the request fails naming what it waited for, instead of waiting forever on a peer that stopped answering.
 * Requests for user work (a Python call, a collection, gathering a client future) take as long as that work.
 */
import { DaskflowError, type SerializedError, deserializeError } from "../core/errors.ts";
import type { BridgeMessage, BridgeRequest } from "./protocol.ts";

export class BridgeError extends DaskflowError {
  override name = "BridgeError";
}

type Op = BridgeRequest["op"];

/** Seconds a reply may take, by request. */
export const REPLY_BOUND_SECONDS: Partial<Record<Op, number>> = {
  // Starting a cluster: a LocalCluster takes seconds; a cluster manager asking a cloud for machines, minutes.
  start: 600,
  workers: 60,
  "task-states": 60,
  "scheduler-info": 60,
  "client-cancel": 60,
  "collection-cancel": 60,
  ship: 300,
  restore: 300,
  // Values already computed, moving to this process.
  gather: 300,
  close: 90,
};

/** `DASKFLOW_REPLY_TIMEOUT_SECONDS` replaces every bound above (for a slow cluster manager, or a test). */
function boundOf(op: Op): number | undefined {
  const seconds = REPLY_BOUND_SECONDS[op];
  const override = Number(process.env.DASKFLOW_REPLY_TIMEOUT_SECONDS);
  return seconds !== undefined && override > 0 ? override : seconds;
}

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

export class PendingReplies {
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;

  /**
   * Registers a request and gives its id; `late(op, seconds)` is the error when its bound passes (the request is
   * then dropped: a reply after it is ignored).
   */
  add<T>(op: Op, late: (op: Op, seconds: number) => Error): { id: number; reply: Promise<T> } {
    const id = this.#nextId++;
    const reply = new Promise<T>((resolve, reject) => {
      const waiting: Waiting = { resolve: resolve as (value: unknown) => void, reject };
      const seconds = boundOf(op);
      if (seconds !== undefined) {
        waiting.timer = setTimeout(() => {
          this.#waiting.delete(id);
          reject(late(op, seconds));
        }, seconds * 1000);
        waiting.timer.unref(); // a bound never keeps the process alive by itself
      }
      this.#waiting.set(id, waiting);
    });
    return { id, reply };
  }

  /** Settles the request a reply answers (replies to requests no longer waited for are dropped). */
  settle(message: Extract<BridgeMessage, { op: "reply" }>): void {
    const waiting = this.#waiting.get(message.id);
    if (!waiting) return;
    this.#waiting.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(remoteError(message.error));
  }

  /** The peer is gone: every request fails with `error`. */
  rejectAll(error: Error): void {
    for (const waiting of this.#waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.#waiting.clear();
  }
}

export function remoteError(error: SerializedError): Error {
  const err = deserializeError(error);
  if (error.stack && !error.stack.includes("\n    at ")) err.stack = `${error.name}: ${error.message}\n(Python traceback)\n${error.stack}`;
  return err;
}
