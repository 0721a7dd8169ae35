/**
 * How task arguments and results cross process boundaries: V8's structured serialization (plain data, Map, Set,
 * Date, RegExp, BigInt, typed arrays, Errors, cycles), plus instances of top-level classes (class-codec.ts). Futures in arguments travel as placeholders the worker fills with the
 * upstream results Dask hands it. A result travels in an envelope holding its final state.
 */
import { type Lift, ValueParts, type ValueBytes, deserializeValue, liftInto, serializeValue, v8Region } from "../transfer/value-bytes.ts";
import { SerializationError, deserializeError, serializeError } from "./errors.ts";
import { type State, type StateFields, type StateRecord, makeState } from "./state.ts";
import { KEEP, forEachDeep, isPlainObject, mapDeep } from "./walk.ts";
import { CLASSES, UnknownClassError, describeClassProblem, importClassModules, needsImports, reviveClasses, withClassTable } from "./class-codec.ts";
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

/** The bytes of `value` in one buffer. */
export function encodeValue(value: unknown, what: string): Buffer {
  const bytes = encodeValueParts(value, what);
  return bytes instanceof ValueParts ? bytes.concat() : bytes;
}

/** The bytes of `value`, its large typed arrays as parts of their own (value-bytes.ts): for channels to write as they are. */
export function encodeValueParts(value: unknown, what: string): ValueBytes {
  let wrapped: unknown;
  const lifts: Lift[] = []; // its large strings, written as parts of their own (value-bytes.ts)
  try {
    wrapped = withClassTable(value, "$", liftInto(lifts));
  } catch (error) {
    if (error instanceof UnknownClassError) throw new UnknownClassError(`${what} cannot be sent to another process: ${error.message}`);
    throw error;
  }
  try {
    return serializeValue(wrapped, lifts);
  } catch (error) {
    throw new SerializationError(`${what} cannot be sent to a Dask worker: ${describeUnserializable(value) ?? (error as Error).message}`);
  }
}

/** Decodes here and now: class instances need their modules imported already (see decodeValueAsync). */
export function decodeValue(bytes: Uint8Array): unknown {
  return reviveCollections(reviveClasses(deserializeValue(bytes)), v8Region(bytes));
}

/** Decodes without giving class instances their prototypes (to read the shape of a value that failed to decode). */
export function decodeShape(bytes: Uint8Array): unknown {
  const decoded: unknown = deserializeValue(bytes);
  return isPlainObject(decoded) && CLASSES in decoded ? (decoded[CLASSES] as unknown[])[0] : decoded;
}

/** Decodes, importing the modules of the classes of the instances in it first. */
export async function decodeValueAsync(bytes: Uint8Array): Promise<unknown> {
  const decoded: unknown = deserializeValue(bytes);
  await importClassModules(decoded);
  return reviveCollections(reviveClasses(decoded), v8Region(bytes));
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
          serializeValue(v);
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

export function recordToState<R>(record: StateRecord, extra: StateFields<R> = {}): State<R> {
  const fields: { -readonly [K in keyof StateFields<R>]: StateFields<R>[K] } = { timestamp: record.timestamp, ...extra };
  if (record.message !== undefined) fields.message = record.message;
  if (record.error) fields.error = deserializeError(record.error);
  return makeState<R>(record.type, record.name, fields);
}

export function encodeEnvelope(state: State<unknown>, record: StateRecord = stateToRecord(state)): ValueBytes {
  return encodeResult(state, record).envelope;
}

/** The envelope of a final state, and the state it really carries: FAILED when the result cannot be sent. */
export function encodeResult(state: State<unknown>, record: StateRecord = stateToRecord(state)): { envelope: ValueBytes; record: StateRecord } {
  const envelope: Envelope = { state: record };
  if ("data" in state) envelope.data = state.data;
  try {
    const lifts: Lift[] = [];
    return { envelope: serializeValue(withClassTable(envelope, "$", liftInto(lifts)), lifts), record };
  } catch {
    const problem = describeClassProblem(state.data, "result") ?? describeUnserializable(state.data, "result");
    const error = new SerializationError(`The task's result cannot be sent back from the worker: ${problem ?? "unsupported value"}`);
    const failed: StateRecord = { ...record, type: "FAILED", name: "Failed", message: error.message, error: serializeError(error) };
    return { envelope: serializeValue({ state: failed }), record: failed };
  }
}

/**
 * Decodes an envelope (or a batch's) here and now. When it holds class instances of a module not imported yet, its
 * data is left out (the state stays; the caller loads the data later with decodeEnvelopeAsync) and the import
 * starts, so the next one decodes at once.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const decoded: unknown = deserializeValue(bytes);
  if (!needsImports(decoded)) return reviveCollections(reviveClasses(decoded) as Envelope, v8Region(bytes));
  importClassModules(decoded).catch(() => {}); // reported by decodeEnvelopeAsync when the data is asked for
  const bare = (decoded as Record<string, [Envelope | BatchEnvelope]>)[CLASSES]![0];
  if ("items" in bare) return { items: bare.items.map((item) => ({ state: item.state })) } as unknown as Envelope;
  return { state: bare.state };
}

export async function decodeEnvelopeAsync(bytes: Uint8Array): Promise<Envelope> {
  return (await decodeValueAsync(bytes)) as Envelope;
}

/** Replaces placeholders by values: `fill(index)` gives upstream number `index`'s value. */
export function fillPlaceholders(args: unknown, fill: (index: number) => unknown): unknown {
  return mapDeep(args, (v) => (isPlainObject(v) && DEP in v ? fill(v[DEP] as number) : KEEP));
}
