/**
 * A Bag's plan: plain data the bridge turns into a Dask graph (python/daskflow_bridge/collections/bag.py) and the
 * worker sidecars execute (src/worker/bag/). Functions travel as source (checked for outer variables when the Bag
 * is built) or as a module URL and export name.
 */

/** A function shipped to the sidecars. */
export type FnRef = { source: string; name: string } | { module: string; export: string };

/** One element-wise step; consecutive steps run fused in one task per partition. */
export type BagStep =
  | { kind: "map" | "filter" | "flatMap" | "mapPartitions"; fn: FnRef; extra: unknown[] }
  | { kind: "pluck"; key: string | number };

/** What a reduction does at the partitions (`per`) and at every level of its tree (`agg`). */
export type BagReducer =
  | { builtin: "count" | "sum" | "min" | "max" | "sumCount" | "mean" | "frequencies" | "distinct" }
  | { builtin: "topk"; k: number; key?: FnRef }
  | { builtin: "fold"; fn: FnRef; initial?: { value: unknown } }
  | { builtin: "call"; fn: FnRef }
  | { builtin: "foldBy"; key: FnRef; fn: FnRef; initial?: { value: unknown } }
  | { builtin: "foldByCombine"; fn: FnRef; initial?: { value: unknown } };

/** Bytes are daskflow-encoded steps, reducers and partitions. */
export type BagNode =
  | { op: "from_sequence"; partitions: Uint8Array[] }
  | { op: "read_text"; paths: string[]; blocksize: number | null; compression: "gzip" | "infer" | null }
  | { op: "dataset"; name: string; npartitions: number }
  | { op: "steps"; input: BagNode; steps: Uint8Array[] }
  | { op: "reduction"; input: BagNode; per: Uint8Array; agg: Uint8Array; split_every: number; out: "item" | "bag" }
  | { op: "group_by"; input: BagNode; key: Uint8Array; npartitions: number };

export interface BagPlan {
  node: BagNode;
  out: "bag" | "item";
}
