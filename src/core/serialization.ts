/**
 * How task arguments and results cross process boundaries: V8's structured serialization (plain data, Map, Set,
 * Date, RegExp, BigInt, typed arrays, Errors). Futures in arguments travel as placeholders the worker fills with the
 * upstream results Dask hands it. A result travels in an envelope holding its final state.
 */
import { deserialize, serialize } from "node:v8";
import { SerializationError, deserializeError, serializeError } from "./errors.ts";
import type { State, StateRecord } from "./state.ts";
import { KEEP, forEachDeep, isPlainObject, mapDeep } from "./walk.ts";
import { reviveCollections } from "./revive.ts";

/** The key of a placeholder object `{ [DEP]: index }` standing for upstream number `index`. */
export const DEP = "\u0000daskflow.dep";

export interface Envelope {
  state: StateRecord;
  data?: unknown;
}

/** The result of a batch: one envelope per item, in order. */
export interface BatchEnvelope {
  items: Envelope[];
}

export function encodeValue(value: unknown, what: string): Buffer {
  try {
    return serialize(value);
  } catch (error) {
    throw new SerializationError(`${what} cannot be sent to a Dask worker: ${describeUnserializable(value) ?? (error as Error).message}`);
  }
}

export function decodeValue(bytes: Uint8Array): unknown {
  return reviveCollections(deserialize(bytes), bytes);
}

/** The first part of `value` V8 cannot serialize, as "path (kind)". */
export function describeUnserializable(value: unknown, root = "$"): string | undefined {
  let found: string | undefined;
  forEachDeep(
    value,
    (v, path) => {
      if (found) return false;
      const kind = typeof v === "function" ? "a function" : typeof v === "symbol" ? "a symbol" : undefined;
      if (kind) {
        found = `${path} is ${kind}; pass plain data instead`;
        return false;
      }
      if (typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set) && !isPlainObject(v)) {
        try {
          serialize(v);
        } catch {
          const name = (v).constructor?.name ?? "object";
          found = `${path} is a ${name}, which cannot be copied to another process; pass plain data instead`;
        }
        return false;
      }
      return true;
    },
    root,
  );
  return found;
}

export function stateToRecord(state: State<unknown>): StateRecord {
  const record: StateRecord = { type: state.type, name: state.name, timestamp: state.timestamp };
  if (state.message !== undefined) record.message = state.message;
  if (state.error) record.error = serializeError(state.error);
  return record;
}

export function recordToState<R>(record: StateRecord, extra: Partial<State<R>> = {}): State<R> {
  const state: { -readonly [K in keyof State<R>]: State<R>[K] } = { type: record.type, name: record.name, timestamp: record.timestamp, ...extra };
  if (record.message !== undefined) state.message = record.message;
  if (record.error) state.error = deserializeError(record.error);
  return state;
}

export function encodeEnvelope(state: State<unknown>, record: StateRecord = stateToRecord(state)): Buffer {
  const envelope: Envelope = { state: record };
  if ("data" in state) envelope.data = state.data;
  try {
    return serialize(envelope);
  } catch {
    const problem = describeUnserializable(state.data, "result");
    const error = new SerializationError(`The task's result cannot be sent back from the worker: ${problem ?? "unsupported value"}`);
    return serialize({ state: { ...record, type: "FAILED", name: "Failed", message: error.message, error: serializeError(error) } });
  }
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return reviveCollections(deserialize(bytes) as Envelope, bytes);
}

/** Replaces placeholders by values: `fill(index)` gives upstream number `index`'s value. */
export function fillPlaceholders(args: unknown, fill: (index: number) => unknown): unknown {
  return mapDeep(args, (v) => (isPlainObject(v) && DEP in v ? fill(v[DEP] as number) : KEEP));
}
