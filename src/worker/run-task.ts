/**
 * One `run` request inside a sidecar: decode the arguments, settle upstream results (NotReady when one did not
 * complete), run the task engine with live state and log events, and answer with the result envelope. A batch runs
 * its items one after another and answers with all their states and results at once.
 */
import { type RunScope, TaskRunInfo } from "../core/context.ts";
import { runTask } from "../core/engine.ts";
import { CrashedRunError, TaskTimeoutError } from "../core/errors.ts";
import { isFinal, type State, Crashed, Failed, StateType } from "../core/state.ts";
import { loggingThreshold } from "../core/logger.ts";
import { type BatchEnvelope, type Envelope, encodeValue, decodeShape, decodeValue, decodeValueAsync, encodeResult, encodeValueParts, fillPlaceholders, recordToState, stateToRecord } from "../core/serialization.ts";
import { stateError } from "../core/future.ts";
import { notReadyFor } from "../core/upstream.ts";
import { RunFutures } from "../core/run-futures.ts";
import type { TaskDefinition } from "../core/task-definition.ts";
import type { ArgsPayload, ItemPayload, TaskSpec, UpstreamRef } from "../dask/encode.ts";
import { type SidecarMessage, type SidecarRequest, type TaskMeta, type WorkerEvent, eventKey } from "../dask/protocol.ts";
import { NestedRunner } from "./nested-runner.ts";
import { ValueParts } from "../transfer/value-bytes.ts";
import { loadTask } from "./load-task.ts";
// Collections in arguments (a DataFrame returned by another task) are revived as their classes.
import "../dask/collections/kinds.ts";

type Send = (message: SidecarMessage) => void;
type RunRequest = Extract<SidecarRequest, { op: "run" }>;

/** Results up to this size travel with the final state event, so the flow process needs no fetch for them. */
const INLINE_RESULT_BYTES = 16 * 1024;
/** The same for all the results of a batch together. */
const INLINE_BATCH_BYTES = 256 * 1024;
/** A RUNNING event is sent only for attempts that last longer than this: a quick task costs one event, not two. */
const RUNNING_EVENT_DELAY_MS = 100;
/** Read once per sidecar: the flow process passes its level in the sidecar's environment. */
const threshold = loggingThreshold();

/** Where and when a run began on this worker, for the run history. */
interface RanAt {
  worker: string;
  started: number;
}

/** `at` is for the run history; `engineRan` says the run's state hooks ran here (else the flow process fires them:
 * a dead sidecar's crash, a killed timeout). */
function finish(send: Send, key: string, meta: TaskMeta, state: State<unknown>, at?: RanAt, engineRan = false): void {
  // The event tells the state the envelope carries (FAILED when the result could not be encoded).
  const { envelope, record } = encodeResult(state); // a large one in parts: written to the channel as they are
  const event: WorkerEvent = { kind: "state", key, task_run_id: meta.task_run_id, state: record, ...at };
  if (engineRan) event.hooks = true;
  if (!(envelope instanceof ValueParts) && envelope.byteLength <= INLINE_RESULT_BYTES) event.envelope = envelope;
  else event.nbytes = envelope.byteLength; // the flow process weighs what the cluster holds for it (task-lifetimes.ts)
  send({ op: "done", envelope, event });
}

/** The envelope an upstream reference points at (an item of a batch's envelope, or a whole one). */
function upstreamEnvelope(deps: readonly unknown[], ref: UpstreamRef): Envelope {
  const dep = deps[ref.dep];
  return (ref.item === undefined ? dep : (dep as BatchEnvelope).items[ref.item]) as Envelope;
}

interface RunIds {
  /** The key events of this run are sent under (protocol.ts `eventKey`). */
  eventKey: string;
  runId: string;
  runName: string;
  /** Set by runOne: the attempts the engine made (for the run history; a batch item reports no retry states). */
  attempts?: number;
}

/** One run: NotReady if an upstream did not complete, else the task engine with live logs (and states). */
async function runOne(
  def: TaskDefinition,
  payload: ItemPayload,
  deps: readonly unknown[],
  ids: RunIds,
  request: RunRequest,
  send: Send,
  inBatch: boolean,
): Promise<State<unknown>> {
  const envelopes = payload.upstreams.map((u) => upstreamEnvelope(deps, u));
  for (const [i, upstream] of payload.upstreams.entries()) {
    const notReady = notReadyFor({ id: upstream.runId, name: upstream.runName }, envelopes[i]!.state, upstream.allowFailure);
    if (notReady) return notReady;
  }
  const args = fillPlaceholders(payload.args, (i) => {
    const envelope = envelopes[i]!;
    if (envelope.state.type === StateType.COMPLETED) return envelope.data;
    return stateError(recordToState(envelope.state), payload.upstreams[i]!.runName); // under allowFailure
  }) as unknown[];

  const taskRun = new TaskRunInfo(ids.runId, ids.runName, def.name, def.options.tags ?? []);
  // Tasks that submit tasks reuse this worker's scheduler; the runner starts only if they do.
  const nested = new NestedRunner(request.context.scheduler_address, send);
  const futures = new RunFutures();
  const scope: RunScope = {
    sink: (record) =>
      send({
        op: "event",
        data: {
          kind: "log",
          key: ids.eventKey,
          task_run_id: ids.runId,
          task_run_name: ids.runName,
          ...(record.run && record.run !== `Task run '${ids.runName}'` ? { run: record.run } : {}),
          level: record.level,
          message: record.message,
          timestamp: record.timestamp,
          worker: request.context.worker_address,
        },
      }),
    threshold,
    runner: nested,
    futures,
    schedulerAddress: request.context.scheduler_address,
    worker: { address: request.context.worker_address, schedulerAddress: request.context.scheduler_address },
  };
  let pendingRunning: NodeJS.Timeout | undefined;
  const sendState = (state: State<unknown>) => {
    const data: WorkerEvent = { kind: "state", key: ids.eventKey, task_run_id: ids.runId, state: stateToRecord(state), worker: request.context.worker_address };
    if (state.type === StateType.RUNNING) data.attempt = taskRun.runCount;
    send({ op: "event", data });
  };
  const final = await runTask(def, args, taskRun, {
    ...scope,
    startAttempt: inBatch ? 1 : request.attempt + 1,
    onState: (state) => {
      clearTimeout(pendingRunning);
      // A batch's items report their final states together; the final state of a single run rides on `done`.
      if (inBatch || isFinal(state)) return;
      if (state.type === StateType.RUNNING && state.name === "Running") {
        pendingRunning = setTimeout(() => sendState(state), RUNNING_EVENT_DELAY_MS);
      } else {
        sendState(state); // Retrying re-arms the worker's hard timeout at once; AwaitingRetry pauses it
      }
    },
  });
  clearTimeout(pendingRunning);
  await futures.settled();
  await nested.shutdown();
  ids.attempts = taskRun.runCount;
  return final;
}

export async function handleRun(request: RunRequest, send: Send): Promise<void> {
  const { key, meta } = request;
  const spec = decodeValue(request.spec) as TaskSpec;
  let payload: ArgsPayload;
  let deps: unknown[];
  let def: TaskDefinition;
  try {
    def = await loadTask(spec);
    // After the task's module: the modules of class instances in the arguments load through the same loader.
    payload = (await decodeValueAsync(request.args)) as ArgsPayload;
    deps = await Promise.all(request.deps.map((bytes) => decodeValueAsync(bytes)));
  } catch (error) {
    const failed = Failed(error as Error, { message: (error as Error).message });
    const batch = decodeShape(request.args) as ArgsPayload;
    return "batch" in batch ? finishBatch(send, key, meta, batch.batch.map(() => failed)) : finish(send, key, meta, failed);
  }
  if (!("batch" in payload)) {
    const ids = { eventKey: key, runId: meta.task_run_id, runName: meta.task_run_name };
    const at = { worker: request.context.worker_address, started: Date.now() };
    return finish(send, key, meta, await runOne(def, payload, deps, ids, request, send, false), at, true);
  }
  // A batch: the items run one after another, each through the engine; their states go back together.
  const states: State<unknown>[] = [];
  const started: number[] = [];
  const attempts: number[] = [];
  for (const [i, item] of payload.batch.entries()) {
    started.push(Date.now());
    const ids: RunIds = { eventKey: eventKey(key, i), runId: item.runId, runName: item.runName };
    states.push(await runOne(def, item.payload, deps, ids, request, send, true));
    attempts.push(ids.attempts ?? 0);
  }
  finishBatch(send, key, meta, states, { worker: request.context.worker_address, started, attempts }, true);
}

function finishBatch(send: Send, key: string, meta: TaskMeta, states: State<unknown>[], at?: { worker: string; started: number[]; attempts: number[] }, engineRan = false): void {
  const records = states.map(stateToRecord);
  const items: Envelope[] = states.map((state, i) => (state.type === StateType.COMPLETED ? { state: records[i]!, data: state.data } : { state: records[i]! }));
  const envelope = encodeValueParts({ items } satisfies BatchEnvelope, "batch result");
  const event: WorkerEvent = { kind: "batch-states", key, task_run_id: meta.task_run_id, states: records, ...at };
  if (engineRan) event.hooks = true;
  if (!(envelope instanceof ValueParts) && envelope.byteLength <= INLINE_BATCH_BYTES) event.envelope = envelope;
  else event.nbytes = envelope.byteLength;
  const persist = meta.persist_items ? persistedItems(meta.persist_items, items) : undefined;
  send(persist ? { op: "done", envelope, event, persist } : { op: "done", envelope, event });
}

/** A batch's items to persist, each in its own envelope (its worker writes them: python/daskflow_bridge/results/). */
function persistedItems(specs: readonly unknown[], items: Envelope[]): (Uint8Array | null)[] {
  return items.map((item, i) => {
    if (!specs[i] || item.state.type !== StateType.COMPLETED) return null;
    try {
      return encodeValue(item, "a persisted result");
    } catch {
      return null; // the batch's own envelope reports what cannot be encoded
    }
  });
}

export function failRun(request: RunRequest, error: Error, send: Send): void {
  finish(send, request.key, request.meta, Failed(error, { message: `daskflow could not run the task: ${error.message}` }));
}

/** After the worker killed a sidecar that ran past its timeout. */
export function timeoutEnvelope(request: Extract<SidecarRequest, { op: "timeout-envelope" }>, send: Send): void {
  const error = new TaskTimeoutError(
    `Task run '${request.meta.task_run_name}' exceeded its timeout of ${request.meta.timeout_seconds}s and did not yield; its sidecar was stopped and replaced.`,
  );
  finish(send, request.key, request.meta, Failed(error, { name: "TimedOut" }));
}

/** After a sidecar died mid-task (process.exit, out of memory, a signal). */
export function crashEnvelope(request: Extract<SidecarRequest, { op: "crash-envelope" }>, send: Send): void {
  const error = new CrashedRunError(`Task run '${request.meta.task_run_name}' crashed: its Node sidecar ${request.reason}.`);
  finish(send, request.key, request.meta, Crashed(error));
}
