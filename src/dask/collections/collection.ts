/**
 * The contract between a Dask collection built in TypeScript (Bag, DataFrame) and the client that computes it: a
 * collection is a plan of plain data with a kind; the bridge turns the plan into the Dask collection of that kind
 * (python/daskflow_bridge/collections/). Plans are plain data, so collections cross task boundaries unchanged.
 */
export const COLLECTION = Symbol.for("daskflow.collection");

export type CollectionKind = "bag" | "dataframe";

export interface CollectionPlan {
  kind: CollectionKind;
  /** Plain data (msgpack-encodable), read by the bridge's builder for `kind`. */
  plan: unknown;
}

/** A collection of the same kind on another plan: what `client.persist()` returns (the plan reads persisted data). */
export const WITH_PLAN = Symbol.for("daskflow.collection.withPlan");

/** Turns what the bridge's `run("compute", ...)` returned into the collection's value (e.g. decodes partitions). */
export const FROM_RESULT = Symbol.for("daskflow.collection.fromResult");

export interface DaskCollection {
  [COLLECTION](): CollectionPlan;
  /** Optional: the value of a computed collection from the bridge's answer (default: the answer as it is). */
  [FROM_RESULT]?(result: unknown): unknown;
  /**
   * Optional, for `client.persist()`: the bridge's `run("persist", plan, { name }, client)` publishes the computed
   * collection as dataset `name` and returns a plan reading it; this makes the collection of that plan.
   */
  [WITH_PLAN]?(plan: unknown): DaskCollection;
}

export function isCollection(value: unknown): value is DaskCollection {
  return typeof value === "object" && value !== null && typeof (value as Partial<DaskCollection>)[COLLECTION] === "function";
}
