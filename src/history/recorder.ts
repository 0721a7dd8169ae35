/**
 * The recorder: the flow process's observer (src/core/observer.ts) that keeps flow runs, task runs and log lines
 * in the history store. Off the hot path: a state change updates a record in memory and marks it; every FLUSH_MS
 * (or FLUSH_ROWS marked rows) one transaction writes what changed, and a flow run's end waits for its last write.
 * History never fails a run: a store that cannot be opened or written gives one warning, and recording stops.
 */
import { consoleSink, type LogRecord, type LogSink } from "../core/logger.ts";
import type { ObservedRun, ObservedSubmission, RunObserver } from "../core/observer.ts";
import type { FlowRunInfo } from "../core/run-info.ts";
import { type State, StateType, isFinal } from "../core/state.ts";
import { upstreamIds } from "./upstream.ts";
import { historyLocation } from "./index.ts";
import { type HistoryWriter, openWriter } from "./writer.ts";
import { parseDuration } from "./query.ts";
import { previewParameters } from "./preview.ts";
import type { FlowRunRecord, LogRecordRow, TaskRunRecord } from "./types.ts";

const FLUSH_MS = 200;
const FLUSH_ROWS = 2000;
/** A started task run not final yet is written once it is this old: most finish sooner and are written once. */
const SETTLE_MS = 500;
/** One that has not started is written after this long waiting (a queue of many is counted in its flow run's
 * `taskCounts` meanwhile): most task runs are then written once, when they end. */
const WAITING_MS = 5000;
const MAX_MESSAGE = 2000;
const MAX_ERROR = 8000;

interface FlowEntry {
  record: FlowRunRecord;
  counts: Map<StateType, number>;
  runner: object;
  /** Its task runs' ids in submission order (a task run's `seq` is its index), to forget them when it ends. */
  taskIds: string[];
}

interface TaskEntry {
  record: TaskRunRecord & { created: number };
  flow: FlowEntry;
  retries: number;
  /** Attempts a Dask worker reported (a batch item's retries send no states). */
  reported?: number;
  /** Written at least once: later changes go out with the next flush. */
  written?: boolean;
  /** Queued to be written later (not started: after WAITING_MS; started: after SETTLE_MS). */
  queued?: "waiting" | "settling";
}

/** Entries in the order they were queued, each with the time it is due to be written (so due times only grow). */
class DueQueue {
  #items: Array<{ due: number; entry: TaskEntry }> = [];
  #head = 0;

  push(due: number, entry: TaskEntry): void {
    this.#items.push({ due, entry });
  }

  /** Takes the entries due by `now` (all of them when `all`). */
  take(now: number, all: boolean): TaskEntry[] {
    const out: TaskEntry[] = [];
    while (this.#head < this.#items.length && (all || this.#items[this.#head]!.due <= now)) out.push(this.#items[this.#head++]!.entry);
    if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

function errorText(error: Error | undefined): string | undefined {
  if (!error) return undefined;
  const head = `${error.name}: ${error.message}`;
  return clip(error.stack?.includes(error.message) ? error.stack : `${head}\n${error.stack ?? ""}`.trim(), MAX_ERROR);
}

/** Optional fields another part of daskflow may put on a final state (result caching): read defensively. */
/** A task run's log label, as runLabel() makes it: "Task run 'add-3f2'". */
const TASK_RUN_LABEL = /^Task run '(.*)'$/;

function cacheFields(state: State<unknown>): Pick<TaskRunRecord, "cacheKey" | "cacheHit" | "resultLocation"> {
  const s = state as { cacheKey?: unknown; cacheHit?: unknown; resultLocation?: unknown };
  const out: Pick<TaskRunRecord, "cacheKey" | "cacheHit" | "resultLocation"> = {};
  if (typeof s.cacheKey === "string") out.cacheKey = s.cacheKey;
  if (typeof s.cacheHit === "boolean") out.cacheHit = s.cacheHit;
  if (typeof s.resultLocation === "string") out.resultLocation = s.resultLocation;
  return out;
}

export class Recorder implements RunObserver {
  #writer: HistoryWriter | undefined;
  #broken = false;
  readonly #flows = new Map<string, FlowEntry>();
  /** Task runs not final yet. */
  readonly #open = new Map<string, TaskEntry>();
  /** Every task run of a flow run still going → its flow run (a worker's log line names only its task run). */
  readonly #taskFlow = new Map<string, FlowEntry>();
  #dirtyFlows = new Set<FlowEntry>();
  /** Task runs to write at the next flush: ended ones, and changed ones written before. */
  #dirtyTasks = new Set<TaskEntry>();
  /** Task runs not written yet and not ended: most end before they are due, and are then written once. */
  readonly #waiting = new DueQueue();
  readonly #settling = new DueQueue();
  #logs: Array<Omit<LogRecordRow, "id">> = [];
  #timer: NodeJS.Timeout | undefined;
  #soon = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(private readonly url?: string) {}

  flowStarted(flowRun: FlowRunInfo, runner: { readonly name: string }, parent: { flowRunId?: string; taskRunId?: string }): void {
    // A nested flow run is recorded when its parent is (not when history was off for the parent's run).
    if (this.#broken || (parent.flowRunId !== undefined && !this.#flows.has(parent.flowRunId))) return;
    const now = Date.now();
    const record: FlowRunRecord = {
      id: flowRun.id, name: flowRun.name, flowName: flowRun.flowName, parameters: previewParameters(flowRun.parameters),
      state: StateType.RUNNING, stateName: "Running", startTime: now, runner: runner.name, taskCounts: {}, updatedAt: now,
    };
    if (flowRun.resumedFrom) record.resumedFrom = flowRun.resumedFrom;
    if (parent.flowRunId) record.parentFlowRunId = parent.flowRunId;
    if (parent.taskRunId) record.parentTaskRunId = parent.taskRunId;
    const entry: FlowEntry = { record, counts: new Map(), runner, taskIds: [] };
    this.#flows.set(flowRun.id, entry);
    this.#mark(entry);
  }

  async flowEnded(flowRun: FlowRunInfo, state: State<unknown>, runner: object): Promise<void> {
    const entry = this.#flows.get(flowRun.id);
    if (!entry) return;
    try {
      const r = entry.record;
      r.state = state.type;
      r.stateName = state.name;
      r.endTime = Date.now();
      const failed = (state.failures ?? []).flatMap((f) => (f.taskRunName && !state.message?.includes(f.taskRunName) ? [`'${f.taskRunName}'`] : []));
      const message = [state.message, failed.length ? `Failed task runs: ${failed.slice(0, 20).join(", ")}${failed.length > 20 ? ` and ${failed.length - 20} more` : ""}` : undefined].filter(Boolean).join(". ");
      if (message) r.message = clip(message, MAX_MESSAGE);
      if (state.type !== StateType.COMPLETED) r.error = errorText(state.error);
      entry.runner = runner;
      this.#mark(entry);
      await this.flush(true);
    } finally {
      this.#flows.delete(flowRun.id);
      for (const id of entry.taskIds) {
        this.#taskFlow.delete(id);
        this.#open.delete(id);
      }
    }
  }

  taskSubmitted(s: ObservedSubmission): void {
    const flow = s.flowRun && this.#flows.get(s.flowRun.id);
    if (!flow || this.#broken) return;
    const now = Date.now();
    const record = {
      id: s.taskRun.id, flowRunId: flow.record.id, name: s.taskRun.name, taskName: s.taskRun.taskName, seq: flow.taskIds.length, created: now,
      state: StateType.PENDING, stateName: "Pending", states: [], attempts: 0, upstream: upstreamIds(s.args, s.waitFor), updatedAt: now,
    } satisfies TaskRunRecord;
    const entry: TaskEntry = { record, flow, retries: 0 };
    this.#open.set(record.id, entry);
    this.#taskFlow.set(record.id, flow);
    flow.taskIds.push(record.id);
    flow.counts.set(StateType.PENDING, (flow.counts.get(StateType.PENDING) ?? 0) + 1);
    this.#markTask(entry);
  }

  taskState(run: ObservedRun, state: State<unknown>): void {
    const entry = this.#open.get(run.taskRunId);
    if (!entry) return;
    const r = entry.record;
    const counts = entry.flow.counts;
    counts.set(r.state, (counts.get(r.state) ?? 1) - 1);
    counts.set(state.type, (counts.get(state.type) ?? 0) + 1);
    r.states.push(state.message === undefined ? { type: state.type, name: state.name, timestamp: state.timestamp } : { type: state.type, name: state.name, timestamp: state.timestamp, message: clip(state.message, MAX_MESSAGE) });
    r.state = state.type;
    r.stateName = state.name;
    if (run.daskKey) r.daskKey = run.daskKey;
    if (state.type === StateType.RUNNING) {
      r.startTime ??= state.timestamp;
      if (state.name === "Retrying") entry.retries++;
    }
    if (isFinal(state)) {
      r.endTime = state.timestamp;
      // A quick Dask attempt reports no Running state: a final Completed or Failed state still means it ran.
      const ran = r.startTime !== undefined || state.type === StateType.COMPLETED || state.type === StateType.FAILED;
      r.attempts = Math.max(entry.retries + (ran ? 1 : 0), entry.reported ?? 0);
      r.error = errorText(state.error);
      Object.assign(r, cacheFields(state));
      this.#open.delete(r.id);
    } else if (state.type === StateType.RUNNING) {
      r.attempts = entry.retries + 1;
    }
    this.#markTask(entry);
  }

  taskWorker(run: ObservedRun, worker: string, started?: number, attempts?: number): void {
    const entry = this.#open.get(run.taskRunId);
    if (!entry) return;
    entry.record.worker = worker;
    if (attempts !== undefined) entry.reported = attempts;
    if (started !== undefined && (entry.record.startTime === undefined || started < entry.record.startTime)) entry.record.startTime = started;
  }

  recordLogs(sink: LogSink): LogSink {
    return (record) => {
      sink(record);
      this.#log(record);
    };
  }

  #log(record: LogRecord): void {
    if (this.#broken) return;
    const flowRunId = record.flowRunId ?? (record.taskRunId ? this.#taskFlow.get(record.taskRunId)?.record.id : undefined);
    if (!flowRunId) return;
    const row: Omit<LogRecordRow, "id"> = { flowRunId, level: record.level, timestamp: record.timestamp, message: clip(record.message, 20_000) };
    if (record.taskRunId) {
      row.taskRunId = record.taskRunId;
      const name = TASK_RUN_LABEL.exec(record.run)?.[1];
      if (name !== undefined) row.taskRunName = name;
    }
    if (record.worker) row.worker = record.worker;
    this.#logs.push(row);
    this.#schedule();
  }

  #markTask(entry: TaskEntry): void {
    const now = Date.now();
    const r = entry.record;
    r.updatedAt = now;
    if (r.endTime !== undefined || entry.written) this.#dirtyTasks.add(entry);
    else if (r.startTime === undefined) {
      if (!entry.queued) {
        entry.queued = "waiting";
        this.#waiting.push(r.created + WAITING_MS, entry);
      }
    } else if (entry.queued !== "settling") {
      entry.queued = "settling";
      this.#settling.push(now + SETTLE_MS, entry);
    }
    this.#mark(entry.flow);
  }

  #mark(flow: FlowEntry): void {
    this.#dirtyFlows.add(flow);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#dirtyTasks.size + this.#logs.length >= FLUSH_ROWS && !this.#soon) {
      this.#soon = true; // out of the engine's call stack, at once
      setImmediate(() => void this.flush());
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => void this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  /** Writes what changed in one transaction; resolves when it (and every write before it) is done. `ending`: also
   * task runs that have not settled (a flow run's end writes everything). */
  flush(ending = false): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#soon = false;
    if (this.#broken) return this.#writing;
    const now = Date.now();
    const flowRuns = [...this.#dirtyFlows].map((f) => ({ ...f.record, ...clusterOf(f.runner), taskCounts: countsOf(f.counts), updatedAt: now }));
    const due = this.#dirtyTasks;
    // One that ended meanwhile was dirty then, and written; one that started while waiting is settling now.
    for (const t of this.#settling.take(now, ending)) if (t.record.endTime === undefined) due.add(t);
    for (const t of this.#waiting.take(now, ending)) if (t.record.startTime === undefined && t.record.endTime === undefined) due.add(t);
    const taskRuns: TaskRunRecord[] = [];
    for (const t of due) {
      t.written = true;
      taskRuns.push(t.record);
    }
    const logs = this.#logs;
    this.#dirtyFlows = new Set();
    this.#dirtyTasks = new Set();
    this.#logs = [];
    if (this.#waiting.size || this.#settling.size) this.#schedule();
    const first = !this.#writer;
    const writer = (this.#writer ??= openWriter(this.url));
    // Handled at once: a rejection left waiting for the chain would be an unhandled one.
    const written = writer.write({ flowRuns, taskRuns, logs }).catch((error: Error) => this.#fail(error));
    this.#writing = this.#writing.then(() => written);
    if (first) this.#retention(writer);
    return this.#writing;
  }

  /** DASKFLOW_HISTORY_RETENTION=30d: runs older than that are pruned, once per process, after the first write. */
  #retention(writer: HistoryWriter): void {
    const setting = process.env.DASKFLOW_HISTORY_RETENTION?.trim();
    if (!setting) return;
    let ms: number;
    try {
      ms = parseDuration(setting, "DASKFLOW_HISTORY_RETENTION");
    } catch (error) {
      return warn((error as Error).message);
    }
    const pruned = writer.prune(Date.now() - ms).catch((error: Error) => {
      if (!this.#broken) warn(`Run history: pruning runs older than ${setting} failed: ${error.message}`);
    });
    this.#writing = this.#writing.then(() => pruned);
  }

  #fail(error: Error): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#dirtyFlows.clear();
    this.#dirtyTasks.clear();
    this.#waiting.clear();
    this.#settling.clear();
    this.#logs = [];
    const where = historyLocation(this.url).display;
    warn(`Run history: cannot record to ${where} (${error.message}). Runs go on without history; set DASKFLOW_HISTORY_URL to record elsewhere, or DASKFLOW_HISTORY=off.`);
  }
}

function warn(message: string): void {
  consoleSink({ level: "warning", message, run: "", timestamp: Date.now() });
}

function countsOf(counts: Map<StateType, number>): FlowRunRecord["taskCounts"] {
  const out: FlowRunRecord["taskCounts"] = {};
  for (const [type, n] of counts) if (n > 0) out[type] = n;
  return out;
}

/** A Dask runner's scheduler address and dashboard link, once its cluster is up (read defensively). */
function clusterOf(runner: object): Pick<FlowRunRecord, "clusterAddress" | "dashboardLink"> {
  const info = (runner as { cluster?: { scheduler_address?: unknown; dashboard_link?: unknown } }).cluster;
  const out: Pick<FlowRunRecord, "clusterAddress" | "dashboardLink"> = {};
  if (typeof info?.scheduler_address === "string") out.clusterAddress = info.scheduler_address;
  if (typeof info?.dashboard_link === "string") out.dashboardLink = info.dashboard_link;
  return out;
}

let shared: Recorder | undefined;

/** The flow process's recorder (src/core/flow.ts loads this module on its first flow run unless history is off). */
export function processRecorder(): Recorder {
  return (shared ??= new Recorder());
}
