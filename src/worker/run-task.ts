/**
 * One `run` request inside a sidecar: decode the arguments, settle upstream results (NotReady when one did not
 * complete), run the task engine with live state and log events, and answer with the result envelope.
 */
import { type RunScope, TaskRunInfo } from "../core/context.ts";
import { runTask } from "../core/engine.ts";
import { CrashedRunError, TaskTimeoutError, deserializeError } from "../core/errors.ts";
import { isFinal, type State, Crashed, Failed, NotReady, StateType } from "../core/state.ts";
import { loggingThreshold } from "../core/logger.ts";
import { type Envelope, decodeEnvelope, decodeValue, encodeEnvelope, fillPlaceholders, stateToRecord } from "../core/serialization.ts";
import type { TaskFuture } from "../core/future.ts";
import type { ArgsPayload, TaskSpec } from "../dask/encode.ts";
import type { SidecarMessage, SidecarRequest, TaskMeta, WorkerEvent } from "../dask/protocol.ts";
import { NestedRunner } from "./nested-runner.ts";
import { loadTask } from "./load-task.ts";

type Send = (message: SidecarMessage) => void;
type RunRequest = Extract<SidecarRequest, { op: "run" }>;

/** Results up to this size travel with the final state event, so the flow process needs no fetch for them. */
const INLINE_RESULT_BYTES = 16 * 1024;
/** A RUNNING event is sent only for attempts that last longer than this: a quick task costs one event, not two. */
const RUNNING_EVENT_DELAY_MS = 20;
/** Read once per sidecar: the flow process passes its level in the sidecar's environment. */
const threshold = loggingThreshold();

function finish(send: Send, key: string, meta: TaskMeta, state: State<unknown>): void {
  const record = stateToRecord(state);
  const envelope = encodeEnvelope(state);
  const event: WorkerEvent = { kind: "state", key, task_run_id: meta.task_run_id, state: record };
  if (envelope.byteLength <= INLINE_RESULT_BYTES) event.envelope = envelope;
  send({ op: "done", envelope, state: record, event });
}

function upstreamError(envelope: Envelope, runName: string): Error {
  return envelope.state.error ? deserializeError(envelope.state.error) : new Error(`Task run '${runName}' ended ${envelope.state.name}.`);
}

export async function handleRun(request: RunRequest, send: Send): Promise<void> {
  const { key, meta } = request;
  const spec = decodeValue(request.spec) as TaskSpec;
  const payload = decodeValue(request.args) as ArgsPayload;
  const deps = request.deps.map((bytes) => decodeEnvelope(bytes));
  for (const [i, upstream] of payload.upstreams.entries()) {
    const dep = deps[i]!;
    if (dep.state.type !== StateType.COMPLETED && !upstream.allowFailure) {
      const state = NotReady(`Upstream task run '${upstream.runName}' did not reach a 'COMPLETED' state (it ended ${dep.state.name}).`);
      return finish(send, key, meta, state);
    }
  }
  const args = fillPlaceholders(payload.args, (i) => {
    const dep = deps[i]!;
    return dep.state.type === StateType.COMPLETED ? dep.data : upstreamError(dep, payload.upstreams[i]!.runName);
  }) as unknown[];

  let def;
  try {
    def = await loadTask(spec);
  } catch (error) {
    return finish(send, key, meta, Failed(error as Error, { message: (error as Error).message }));
  }

  const taskRun = new TaskRunInfo(meta.task_run_id, meta.task_run_name, spec.name, spec.options.tags ?? []);
  // Tasks that submit tasks reuse this worker's scheduler; the runner starts only if they do.
  const nested = new NestedRunner(request.context.scheduler_address);
  const futures = new Set<TaskFuture<unknown>>();
  const scope: RunScope = {
    sink: (record) =>
      send({
        op: "event",
        data: {
          kind: "log",
          key,
          task_run_id: meta.task_run_id,
          task_run_name: meta.task_run_name,
          ...(record.run && record.run !== `Task run '${meta.task_run_name}'` ? { run: record.run } : {}),
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
    const data: WorkerEvent = { kind: "state", key, task_run_id: meta.task_run_id, state: stateToRecord(state) };
    if (state.type === StateType.RUNNING) data.attempt = taskRun.runCount;
    send({ op: "event", data });
  };
  const final = await runTask(def, args, taskRun, {
    ...scope,
    startAttempt: request.attempt + 1,
    onState: (state) => {
      clearTimeout(pendingRunning);
      if (isFinal(state)) return; // sent with `done`
      if (state.type === StateType.RUNNING && state.name === "Running") {
        pendingRunning = setTimeout(() => sendState(state), RUNNING_EVENT_DELAY_MS);
      } else {
        sendState(state); // Retrying re-arms the worker's hard timeout at once; AwaitingRetry pauses it
      }
    },
  });
  clearTimeout(pendingRunning);
  await Promise.all([...futures].map((f) => f.wait()));
  await nested.shutdown();
  finish(send, key, meta, final);
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
