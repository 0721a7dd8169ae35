/**
 * Run history: what is recorded about flow runs, task runs and logs, as the typed API (`history.*`), the CLI and the
 * UI read it. The flow process writes it (src/history/recorder.ts); the stores (SQLite by default, PostgreSQL by
 * URL) hold the same schema. Times are epoch milliseconds; ids are the run ids the engine gives.
 */
import type { StateType } from "../core/state.ts";

export interface FlowRunRecord {
  id: string;
  /** The flow run's name, e.g. "crimson-otter". */
  name: string;
  flowName: string;
  /** A short preview of the parameters (never the values themselves: they may be large or private). */
  parameters: string;
  state: StateType;
  /** The state's name: "Completed", "Failed", "TimedOut", ... */
  stateName: string;
  /** The final state's message, with the names of failed task runs. */
  message?: string | undefined;
  /** "Name: message" and the stack of a failed or crashed run's error. */
  error?: string | undefined;
  startTime: number;
  endTime?: number | undefined;
  /** "DaskTaskRunner", "ConcurrentTaskRunner", ... */
  runner: string;
  clusterAddress?: string | undefined;
  dashboardLink?: string | undefined;
  /** The flow run this one resumed (durable runs), if any. */
  resumedFrom?: string | undefined;
  /** The flow run that called this one, when it is nested (and the task run it was called in, if any). */
  parentFlowRunId?: string | undefined;
  parentTaskRunId?: string | undefined;
  /** Task runs by state type, e.g. { COMPLETED: 98, FAILED: 2 }. */
  taskCounts: Partial<Record<StateType, number>>;
  /** When this record last changed (readers poll for changes with `updatedSince`). */
  updatedAt: number;
}

export interface StateRecord {
  type: StateType;
  name: string;
  timestamp: number;
  message?: string | undefined;
}

export interface TaskRunRecord {
  id: string;
  flowRunId: string;
  /** The task run's name, e.g. "add-3f2". */
  name: string;
  /** The task's name. */
  taskName: string;
  /** When it was submitted (epoch ms). */
  created?: number | undefined;
  /** Its place among its flow run's task runs in submission order (0, 1, ...): the order they are listed in. */
  seq?: number | undefined;
  daskKey?: string | undefined;
  worker?: string | undefined;
  state: StateType;
  stateName: string;
  /** Every state with its time, first to last (PENDING, RUNNING, AWAITING_RETRY, ..., the final one). */
  states: StateRecord[];
  startTime?: number | undefined;
  endTime?: number | undefined;
  /** Attempts made (1 without retries). */
  attempts: number;
  /** Task run ids of its upstreams: futures among its arguments and in `waitFor`. */
  upstream: string[];
  cacheKey?: string | undefined;
  cacheHit?: boolean | undefined;
  resultLocation?: string | undefined;
  /** "Name: message" and the stack, for a run that failed or crashed. */
  error?: string | undefined;
  /** When this record last changed. */
  updatedAt: number;
}

export interface LogRecordRow {
  id: number;
  flowRunId: string;
  taskRunId?: string | undefined;
  /** The task run's name, e.g. "add-3f2" (lines of a task run). */
  taskRunName?: string | undefined;
  level: "debug" | "info" | "warning" | "error" | "critical";
  timestamp: number;
  message: string;
  worker?: string | undefined;
}

/** A page of rows and the cursor of the next one (keyset pagination: stable while runs are added). */
export interface Page<T> {
  items: T[];
  nextCursor?: string | undefined;
}

export interface FlowRunQuery {
  flowName?: string;
  state?: StateType | readonly StateType[];
  /** Runs that started at or after this time (a Date, epoch ms, or a duration back from now such as "24h"). */
  since?: Date | number | string;
  until?: Date | number | string;
  limit?: number;
  cursor?: string;
}

export interface TaskRunQuery {
  flowRunId: string;
  state?: StateType | readonly StateType[];
  /** Only records changed after this time (epoch ms): what a live page polls for. */
  updatedSince?: number;
  limit?: number;
  cursor?: string;
}

export interface LogQuery {
  flowRunId: string;
  taskRunId?: string;
  /** The lowest level shown. */
  level?: LogRecordRow["level"];
  /** Case-insensitive text search in messages. */
  search?: string;
  /** Only lines with an id above this one: what a live page polls for. */
  afterId?: number;
  limit?: number;
  cursor?: string;
}

/**
 * A flow run's task runs in columns, sorted by start time: what a timeline draws (100,000 bars) without one object
 * per task run. `worker[i]` indexes `workers` (-1: none known); `state[i]` indexes `states`; times are epoch ms
 * (0 when not known: a run that never started, or, for `end`, is still running).
 */
export interface Timeline {
  flowRunId: string;
  ids: string[];
  names: string[];
  taskNames: string[];
  workers: string[];
  worker: number[];
  start: number[];
  end: number[];
  states: string[];
  state: number[];
  /** The state's name ("Completed", "Cached", "TimedOut", ...), as indexes into `stateNames`. */
  stateNames: string[];
  stateName: number[];
  attempts: number[];
  cacheHit: boolean[];
}
