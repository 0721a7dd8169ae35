/**
 * The runs a DaskTaskRunner has sent and what the cluster says of them: state and log events from the workers,
 * `done` from the scheduler (with a fallback fetch when a final event is late), and letting go of a Dask task once
 * every run of it is final. Results are fetched once, when someone needs data that did not come inline.
 */
import type { TaskFuture } from "../core/future.ts";
import { LEVELS, type LogLevel, type LogRecord } from "../core/logger.ts";
import { type BatchEnvelope, type Envelope, decodeEnvelope, decodeEnvelopeAsync, recordToState } from "../core/serialization.ts";
import { type State, Cancelled, Crashed, StateType, isFinal, isNotReady, withFields } from "../core/state.ts";
import { CrashedRunError } from "../core/errors.ts";
import { setFutureState } from "../core/future.ts";
import { observing } from "../core/observer.ts";
import { notReadyFor, upstreamRun } from "../core/upstream.ts";
import { type BridgeMessage, type SubmitTask, type WorkerEvent, eventKey } from "./protocol.ts";
import type { HeldResults, HeldTask } from "./results-held.ts";
import type { TaskLifetimes } from "./task-lifetimes.ts";

/** One task run; `item` is its position when it runs in a batch. */
export interface Run {
  future: TaskFuture<unknown>;
  task: DaskTask;
  item?: number;
  /** Its final state came from the task engine on a worker, which fired its hooks (else the flow process does). */
  hooksRan?: boolean;
}

/** One Dask task: a single run, or a batch of runs of one task; released from the cluster once its results are
 * here (results-held.ts). */
export interface DaskTask extends HeldTask {
  runs: Run[];
  /** Runs not final yet: at 0 the runner lets go of the task (RunTable.retire). */
  open: number;
  /** Emptied when the task is retired: only a task still running needs its upstreams (for NotReady). */
  upstreams: TaskFuture<unknown>[];
  /** The size of its result envelope(s) when they did not come inline (the final state event says). */
  nbytes?: number;
  /** Fallback for a finished Dask task whose final state events have not arrived. */
  fallback?: NodeJS.Timeout;
  /** Its Dask restrictions, for the message when no worker can take it. */
  annotations: SubmitTask["annotations"];
  /** Its result envelope(s), fetched once when someone needs data that did not come inline. */
  loaded?: Promise<Envelope[]>;
}

/** An inline envelope with its data (decodeEnvelope leaves the data out while class modules are imported). */
const whole = (envelope: Envelope): boolean => envelope.state.type !== StateType.COMPLETED || "data" in envelope;

/** How long a finished task's final state event may lag its Dask completion before the envelope is fetched. */
const FINAL_EVENT_GRACE_MS = 1500;

/** What the table needs of its runner. */
export interface RunTableHost {
  readonly held: HeldResults;
  readonly lifetimes: TaskLifetimes;
  log(level: LogLevel, message: string): void;
  /** Where task runs' log lines go (the flow run's sink). */
  sink(record: LogRecord): void;
  gather(key: string): Promise<Uint8Array>;
  closed(): boolean;
}

export class RunTable {
  /** Runs (by event key: protocol.ts `eventKey`) and Dask tasks not final yet (retire lets go of them). */
  readonly runs = new Map<string, Run>();
  readonly tasks = new Map<string, DaskTask>();

  constructor(private readonly host: RunTableHost) {}

  /** A message of the bridge other than a reply. */
  onMessage(m: Exclude<BridgeMessage, { op: "reply" }>): void {
    switch (m.op) {
      case "event":
        return this.#onEvent(m.data);
      case "done":
        return this.#onDone(m.key, m.status, m.error);
      case "log":
        return this.host.log(m.level, m.message);
    }
  }

  #onEvent(event: WorkerEvent): void {
    if (event.kind === "worker-log") {
      const level: LogLevel = event.level in LEVELS ? (event.level as LogLevel) : "warning";
      return this.host.log(level, event.worker ? `Worker ${event.worker}: ${event.message}` : event.message);
    }
    if (event.kind === "batch-states") {
      const task = this.tasks.get(event.key);
      if (!task) return;
      if (event.nbytes !== undefined) task.nbytes = event.nbytes;
      const inline = event.envelope ? (decodeEnvelope(event.envelope) as unknown as BatchEnvelope).items : undefined;
      event.states.forEach((record, i) => {
        const run = task.runs[i];
        const item = inline?.[i];
        if (!run) return;
        if (event.worker) observing.observer?.taskWorker(run.future, event.worker, event.started?.[i], event.attempts?.[i]);
        if (event.hooks) run.hooksRan = true;
        this.setState(run, recordToState(record, item && "data" in item ? { data: item.data } : {}));
      });
      if (inline?.every(whole)) this.host.held.haveLocally(task, inline, true);
      return;
    }
    if (event.kind === "log") {
      const level: LogLevel = event.level in LEVELS ? (event.level as LogLevel) : "info";
      const record: LogRecord = { level, message: event.message, run: event.run ?? `Task run '${event.task_run_name}'`, timestamp: event.timestamp };
      if (event.worker) record.worker = event.worker;
      record.taskRunId = event.task_run_id;
      this.host.sink(record);
      return;
    }
    const run = this.runs.get(event.key);
    if (!run) return;
    if (event.nbytes !== undefined) run.task.nbytes = event.nbytes;
    if (event.worker) observing.observer?.taskWorker(run.future, event.worker, event.started);
    const inline = event.envelope ? decodeEnvelope(event.envelope) : undefined;
    if (event.hooks) run.hooksRan = true;
    this.setState(run, recordToState(event.state, inline && "data" in inline ? { data: inline.data } : {}));
    if (inline && isFinal(run.future.state) && whole(inline)) this.host.held.haveLocally(run.task, [inline], true);
  }

  setState(run: Run, state: State<unknown>): void {
    if (state.type === StateType.COMPLETED && !("data" in state)) {
      state = withFields(state, { load: () => this.#envelopes(run.task).then((envelopes) => envelopes[run.item ?? 0]?.data) });
    }
    run.future[setFutureState](state);
    if (run.task.fallback && run.task.runs.every((r) => isFinal(r.future.state))) clearTimeout(run.task.fallback);
    this.host.held.offer(run.task);
  }

  /** Every run of `task` is final: the runner lets go of it. Its result stays on the cluster while a future or state
   * of it can still fetch it (task-lifetimes.ts), unless the flow process has it already. */
  retire(task: DaskTask): void {
    if (this.tasks.get(task.key) !== task) return;
    this.tasks.delete(task.key);
    for (const run of task.runs) this.runs.delete(eventKey(task.key, run.item));
    task.upstreams = [];
    if (!task.released) this.host.lifetimes.watch(task, task.key, task.nbytes ?? 0);
    if (this.tasks.size === 0) this.host.lifetimes.idle();
  }

  /** The Dask task's result envelope(s), one per run, fetched once. */
  #envelopes(task: DaskTask): Promise<Envelope[]> {
    task.loaded ??= task.local
      ? Promise.resolve(task.local)
      : this.host.gather(task.key).then(async (bytes) => {
          const decoded = await decodeEnvelopeAsync(bytes);
          const envelopes = task.batch ? (decoded as unknown as BatchEnvelope).items : [decoded];
          this.host.held.haveLocally(task, envelopes, false);
          return envelopes;
        });
    return task.loaded;
  }

  #onDone(key: string, status: "finished" | "error" | "cancelled", error?: { name: string; message: string; stack?: string }): void {
    const task = this.tasks.get(key);
    if (!task) return;
    const open = task.runs.filter((r) => !isFinal(r.future.state));
    if (open.length === 0) return;
    if (status === "finished") {
      // The final state events normally arrive within milliseconds; fetch the envelopes only if they do not.
      task.fallback = setTimeout(() => {
        this.#envelopes(task).then(
          (envelopes) => {
            for (const run of task.runs) {
              const envelope = envelopes[run.item ?? 0];
              if (envelope && !isFinal(run.future.state)) {
                // Only the engine completes or cancels a run (its hooks ran there); a FAILED one may be a killed
                // timeout's, whose hooks are the flow process's.
                const { type } = envelope.state;
                if (type === StateType.COMPLETED || type === StateType.CANCELLED) run.hooksRan = true;
                this.setState(run, recordToState(envelope.state, "data" in envelope ? { data: envelope.data } : {}));
              }
            }
          },
          (err: Error) => task.runs.forEach((r) => r.future[setFutureState](Crashed(err))),
        );
      }, FINAL_EVENT_GRACE_MS);
      return;
    }
    if (status === "cancelled") {
      for (const run of open) run.future[setFutureState](Cancelled({ message: `Task run '${run.future.taskRunName}' was cancelled on the Dask cluster.` }));
      return;
    }
    // Dask reports an upstream's crash on every dependent: those did not run, like Prefect's NotReady.
    for (const upstream of task.upstreams) {
      const notReady = notReadyFor(upstreamRun(upstream), upstream.state, false);
      if (notReady && (isFinal(upstream.state) || isNotReady(upstream.state))) {
        for (const run of open) run.future[setFutureState](notReady);
        return;
      }
    }
    const reason = error ? `${error.name}: ${error.message}` : "the Dask task failed";
    for (const run of open) {
      const crash = new CrashedRunError(`Task run '${run.future.taskRunName}' crashed on the Dask cluster: ${reason}`);
      run.future[setFutureState](Crashed(crash, { message: crash.message }));
    }
  }

  /** A line the bridge printed. */
  onOutput(line: string, stream: "stdout" | "stderr"): void {
    if (!line.trim()) return;
    if (stream === "stdout") return this.host.log("info", `[worker output] ${line}`);
    // Dask's complaints while a cluster is being torn down (heartbeats to a closed scheduler) are not news.
    const important = !this.host.closed() && /Traceback|ERROR|CRITICAL|Error:/.test(line);
    this.host.log(important ? "warning" : "debug", `[dask] ${line}`);
  }
}
