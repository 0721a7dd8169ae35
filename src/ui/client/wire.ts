/**
 * The timeline as the server sends it to the browser: one entry per task run in parallel arrays (columnar: 100k
 * task runs are a few MB of JSON and parse in tens of milliseconds, where 100k objects would not).
 */
export const STATES = ["PENDING", "SCHEDULED", "RUNNING", "COMPLETED", "FAILED", "CRASHED", "CANCELLED"] as const;

/** Above this many task runs the timeline leaves out the upstream links (reading them costs more than they show). */
export const UPSTREAM_MAX = 20_000;

export interface TimelineWire {
  /** Epoch ms every start/end is relative to (the flow run's start). */
  t0: number;
  /** Lane labels: the Dask workers, or "flow process" for tasks run in it. */
  lanes: string[];
  /** Task run names. */
  names: string[];
  lane: number[];
  /** ms after t0; -1 when the task run never started. */
  start: number[];
  /** ms after t0; -1 while it runs (or never ran). */
  end: number[];
  /** Index into STATES. */
  state: number[];
  attempts: number[];
  /** 1 when the result came from the cache. */
  cached: number[];
  /** Epoch ms the server read it: a running task run's bar ends there. */
  now: number;
  /** Each task run's upstream task runs as indexes into these arrays (runs of up to UPSTREAM_MAX task runs). */
  up?: number[][];
}
