/**
 * Values that cross processes as plain data and become objects of a class again on arrival: a Dask collection
 * (DataFrame, Bag) keeps its plan under one string key, so V8 serializes it as a plain object; decoding turns
 * such objects back into the class registered for their kind. Decoding walks a value only when its bytes hold the
 * key, so values without collections cost one byte search.
 */
import { KEEP, isPlainObject, mapDeep } from "./walk.ts";

/** The own property holding `{ kind, plan }` on a collection instance. */
export const REVIVE_KEY = "\u0000daskflow.collection";
const KEY_BYTES = Buffer.from(REVIVE_KEY, "latin1");

const revivers = new Map<string, (plan: unknown) => unknown>();

export function registerReviver(kind: string, revive: (plan: unknown) => unknown): void {
  revivers.set(kind, revive);
}

/** `value` (just deserialized from `bytes`) with its collections made objects of their classes again. */
export function reviveCollections<T>(value: T, bytes: Uint8Array): T {
  if (!Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(KEY_BYTES)) return value;
  return mapDeep(value, (v) => {
    if (!isPlainObject(v) || !(REVIVE_KEY in v)) return KEEP;
    const { kind, plan } = v[REVIVE_KEY] as { kind: string; plan: unknown };
    const revive = revivers.get(kind);
    if (!revive) {
      throw new Error(`A Dask ${kind} arrived, but this process has not loaded daskflow/dask's ${kind} support; import it from "daskflow/dask".`);
    }
    return revive(plan);
  }) as T;
}
