/**
 * The framed MessagePack protocol between the flow process and the bridge, and between a Dask worker and its Node
 * sidecar (docs/bridge-protocol.md). Mirrored in python/daskflow_bridge/transfer/protocol.py. Frames: 4-byte big-endian
 * length, then one MessagePack map with an `op` (src/transfer/framing.ts).
 */
import type { SerializedError } from "../core/errors.ts";
import type { PersistSpec } from "../results/storage.ts";
import type { StateRecord } from "../core/state.ts";
import type { CollectionKind } from "./collections/collection.ts";
import type { ValueBytes } from "../transfer/value-bytes.ts";

export interface DaskAnnotations {
  resources?: Record<string, number>;
  priority?: number;
  retries?: number;
  workers?: string[];
  allow_other_workers?: boolean;
}

export interface TaskMeta {
  name: string;
  task_run_id: string;
  task_run_name: string;
  retries: number;
  timeout_seconds?: number;
  /** Where the worker writes the result (src/results/, python/daskflow_bridge/results/); a batch's per item. */
  persist?: PersistSpec;
  persist_items?: (PersistSpec | null)[];
}

export interface SubmitTask {
  key: string;
  spec: Uint8Array;
  args: Uint8Array;
  deps: string[];
  annotations: DaskAnnotations;
  meta: TaskMeta;
  /** Concurrency limits: the bridge takes these slots before it submits the task (python/daskflow_bridge/limits/). */
  concurrency?: ConcurrencyRequest;
}

/** A slot of a concurrency limit: a lease of a Dask Semaphore (src/limits/). */
export interface SlotRequest {
  semaphore: string;
  tag: string;
  limit: number;
  scope: "run" | "cluster";
  /** Leases to take (concurrency()'s `occupy`); default 1. */
  occupy?: number;
}

export interface ConcurrencyRequest {
  slots: SlotRequest[];
  /** Fail the run (TimedOut, naming the limit) when its slots are not had within this many seconds. */
  timeout_seconds?: number;
  /** A batch's item count: each item gets the states the bridge sends while the task waits. */
  items?: number;
}

export interface SidecarSpec {
  /** The flow process's Node (`process.execPath`); a worker without that file uses another (python/daskflow_bridge/sidecar/node.py). */
  node: string;
  /** The flow process's Node version (`process.version`): a sidecar on another major is warned about. */
  node_version?: string;
  argv: string[];
  /** The flow's working directory: the sidecars' too where it exists (it must, without shipped code). */
  cwd: string;
  env: Record<string, string>;
  /** The run's event topic, for the plugin's own warnings. */
  topic?: string;
  /** Shipped code (src/dask/shipping/): the sidecars run `entry` from the run's code folder. */
  code?: ShippedCode;
}

export interface ShippedPack {
  hash: string;
  /** Deflated MessagePack body (src/dask/shipping/pack.ts). */
  data: Uint8Array;
}

export interface ShippedCode {
  /** Names the run's code folder on each host (shared by the run's workers there; nested runs reuse it). */
  run: string;
  /** The sidecar entry's path inside that folder. */
  entry: string;
  /** Packs laid into the folder before the sidecars start (later ones come with `ship`). */
  packs: ShippedPack[];
}

/** TLS credentials for distributed.security.Security (python/daskflow_bridge/bridge/security.py). */
export interface StartSecurity {
  ca_file: string;
  cert_file: string;
  key_file?: string;
  require_encryption: boolean;
}

export interface StartRequest {
  address?: string;
  cluster_class?: string;
  cluster_kwargs: Record<string, unknown>;
  adapt_kwargs?: Record<string, unknown>;
  client_kwargs: Record<string, unknown>;
  performance_report_path?: string;
  /** The client's TLS credentials; for a cluster the bridge creates, its scheduler's and workers' too. */
  security?: StartSecurity;
  topic: string;
  sidecar: SidecarSpec;
  plugin_name: string;
  /** Seconds to wait for the scheduler at `address` before failing with an error naming it. */
  connect_timeout?: number;
}

export interface StartReply {
  scheduler_address: string;
  dashboard_link: string | null;
  created: boolean;
  cluster_repr: string;
  n_workers: number;
}

export interface WorkerInfo {
  address: string;
  nthreads: number;
  resources: Record<string, number>;
}

export interface SchedulerInfo {
  address: string;
  id: string;
  type: string;
  workers: Record<
    string,
    {
      name: string;
      nthreads: number;
      memory_limit: number;
      resources: Record<string, number>;
      host: string;
      /** Bytes of task results in the worker's memory as of its last heartbeat (Dask's `managed_bytes`); null before one. */
      managed_bytes: number | null;
    }
  >;
  dashboard_link: string | null;
}

/** flow process → bridge */
export type BridgeRequest =
  | ({ op: "start"; id: number } & StartRequest)
  | { op: "submit"; tasks: SubmitTask[] }
  | { op: "gather"; id: number; keys: string[] }
  | { op: "release"; keys: string[] }
  | { op: "cancel"; keys: string[] }
  | { op: "workers"; id: number }
  /** The scheduler's state of each key (`no-worker`, `queued`, `processing`, …; null when it has none). */
  | { op: "task-states"; id: number; keys: string[] }
  /** Persisted results (src/results/backend.ts, python/daskflow_bridge/results/store.py). */
  | { op: "results"; id: number; action: "probe" | "lookup" | "read" | "put" | "get"; location: string; keys?: string[]; key?: string; path?: string; text?: string }
  // DaskClient (src/dask/client/): futures it makes are held by the bridge under keys the client chose.
  | { op: "call"; id: number; key: string; callable: string; args: unknown[]; kwargs: Record<string, unknown> }
  | { op: "scatter"; id: number; key: string; data: unknown }
  | { op: "client-gather"; id: number; keys: string[] }
  | { op: "client-release"; keys: string[] }
  | { op: "client-cancel"; id: number; keys: string[] }
  | { op: "scheduler-info"; id: number }
  | { op: "wait-for-workers"; id: number; n: number; timeout_seconds?: number }
  /** Datasets a client's persisted collections were published under; dropped when its scope ends. */
  | { op: "unpublish"; names: string[] }
  /** A collection plan (src/dask/collections/collection.ts): `action` (compute, persist, ...) by the builder of `kind`. */
  | { op: "collection"; id: number; key?: string; kind: CollectionKind; action: string; plan: unknown; args?: Record<string, unknown> }
  /** Stops the collection requests made under these keys (a `compute()` future's work); they fail FutureCancelled. */
  | { op: "collection-cancel"; id: number; keys: string[] }
  /** More shipped code (a task module not shipped yet): every worker, and every worker that joins, gets it. */
  | { op: "ship"; id: number; run: string; pack: ShippedPack }
  /** concurrency(): leases of these slots; `{ handle }`, or `{ timed_out: tag }` past `timeout_seconds`. */
  | { op: "limit-acquire"; id: number; slots: SlotRequest[]; timeout_seconds?: number }
  | { op: "limit-release"; id: number; handle: string }
  /** A released result put back under a new key (results-held.ts): `data` is its envelope (a batch's `{items}`). */
  | { op: "restore"; id: number; key: string; data: ValueBytes }
  | { op: "close"; id: number }
  /** The answer to `side-probe`, and the bridge's value files read since (sender-files.ts). */
  | { op: "side-files"; fd: number; ok: boolean; memory?: boolean }
  | { op: "release-files"; fds: number[] };

/** A worker event on the run's topic. */
export type WorkerEvent =
  | {
      kind: "state";
      key: string;
      task_run_id: string;
      state: StateRecord;
      /** The run count when the state starts an attempt (the worker re-arms its hard timeout). */
      attempt?: number;
      /** A small result travels with its final state, saving a fetch; larger ones stay on the cluster. */
      envelope?: Uint8Array;
      /** With a final state whose envelope stays on the cluster: its size in bytes. */
      nbytes?: number;
      /** The worker's address and, with a final state, when the attempt began there: for the run history. */
      worker?: string;
      started?: number;
      /** With a final state the task engine reached: the run's state hooks ran on the worker (src/hooks/). */
      hooks?: boolean;
    }
  | {
      /** The final states of a batch's items, in order; the results too when small. */
      kind: "batch-states";
      key: string;
      task_run_id: string;
      states: StateRecord[];
      envelope?: Uint8Array;
      /** When the envelope stays on the cluster: its size in bytes. */
      nbytes?: number;
      /** The worker's address, when each item began and its attempts: for the run history. */
      worker?: string;
      started?: number[];
      attempts?: number[];
      /** The items ran through the task engine: their state hooks ran on the worker. */
      hooks?: boolean;
    }
  | {
      kind: "log";
      key: string;
      task_run_id: string;
      task_run_name: string;
      /** The record's run label when it is not the task run itself (a flow called inside the task). */
      run?: string;
      level: string;
      message: string;
      timestamp: number;
      worker?: string;
    }
  | {
      /** A worker's own message (its Node is another major version, ...), not a task's. */
      kind: "worker-log";
      level: string;
      message: string;
      worker?: string;
    };

/** bridge → flow process */
export type BridgeMessage =
  | { op: "reply"; id: number; ok: true; value: unknown }
  | { op: "reply"; id: number; ok: false; error: SerializedError }
  | { op: "done"; key: string; status: "finished" | "error" | "cancelled"; error?: SerializedError }
  | { op: "event"; data: WorkerEvent }
  | { op: "log"; level: "debug" | "info" | "warning" | "error"; message: string }
  /** First, when this process asked for value files: a file of the bridge's holding a known text to read. */
  | { op: "side-probe"; fd: number; memory?: string };

/** worker (run_task) → sidecar */
export type SidecarRequest =
  | {
      op: "run";
      key: string;
      spec: Uint8Array;
      args: Uint8Array;
      deps: Uint8Array[];
      meta: TaskMeta;
      context: { topic: string; scheduler_address: string; worker_address: string };
      attempt: number;
      /** Freed ranges of the reply side file ([offset, length]) to write this request's reply values into. */
      reuse?: [number, number][];
    }
  | { op: "timeout-envelope"; key: string; meta: TaskMeta; attempt: number }
  | { op: "crash-envelope"; key: string; meta: TaskMeta; reason: string }
  /** A message of the running task's client session (replies, done, events), served by its worker. */
  | { op: "bridge"; message: BridgeMessage }
  /** One Bag partition program (src/worker/bag/): `program` and `inputs` are daskflow-encoded values. */
  | { op: "bag"; program: BagProgram; inputs: Uint8Array[]; reuse?: [number, number][] };

/** One Bag task's work in a sidecar (python/daskflow_bridge/collections/bag.py builds them; src/worker/bag/ runs them). */
export type BagProgram =
  | {
      kind: "partition";
      /** Fused element-wise steps, each a daskflow-encoded BagStep. */
      steps: Uint8Array[];
      /** A text block to read instead of an input partition. */
      read?: { path: string; start: number; end: number | null; compression: "gzip" | null };
      /** A per-partition reduction (encoded BagReducer) ending the task. */
      then?: Uint8Array;
      /** Write the partition as lines to this file. */
      write?: { path: string; compression: "gzip" | null };
    }
  | { kind: "aggregate"; agg: Uint8Array; final: boolean; depth: number }
  | { kind: "split"; key: Uint8Array; n: number }
  | { kind: "group" };

/** sidecar → worker */
export type SidecarMessage =
  | { op: "ready"; pid: number; node: string; memory?: boolean; keep?: boolean }
  | { op: "event"; data: WorkerEvent }
  /** The running task submits tasks of its own: its thread leaves the worker's pool so they can run meanwhile. */
  | { op: "secede" }
  | { op: "done"; envelope: ValueBytes; event?: WorkerEvent; persist?: (Uint8Array | null)[] }
  /** The running task's nested submits and client calls: a bridge request, served by its own worker. */
  | { op: "bridge"; message: BridgeRequest }
  | { op: "bag-done"; ok: true; data: ValueBytes | ValueBytes[] }
  | { op: "bag-done"; ok: false; error: SerializedError };

export { FrameDecoder, SideFile, encodeFrame, encodeFrameParts } from "../transfer/framing.ts";

/** JSON lists of module URLs the flow process hands a sidecar in its environment. */
/** The key a run's events come under: its Dask task's key, or for an item of a batch `${key}#${item}`. */
export function eventKey(key: string, item?: number): string {
  return item === undefined ? key : `${key}#${item}`;
}

export const SIDECAR_ENV = {
  /** The first tasks' modules: imported as the sidecar starts. */
  preload: "DASKFLOW_PRELOAD",
  /** The flow's TS loaders (tsx): imported just before the first user module, not at start. */
  loaders: "DASKFLOW_LOADERS",
} as const;

/** "0" in sidecars of a runner with shipCode: false, so the runners of tasks there do not ship either. */
export const SHIP_CODE_ENV = "DASKFLOW_SHIP_CODE";

export function sidecarEnvList(name: (typeof SIDECAR_ENV)[keyof typeof SIDECAR_ENV]): string[] {
  return JSON.parse(process.env[name] ?? "[]") as string[];
}
