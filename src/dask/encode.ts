/**
 * Turning submissions into what the bridge sends to Dask: the task spec (which module and task to run), argument
 * bytes with futures replaced by placeholders, and the keys of the upstream Dask tasks to feed in. A batch (`map`
 * with `batchSize`) is one Dask task carrying several items, each with its own arguments and upstreams.
 */
import { encodeValue, DEP, describeUnserializable } from "../core/serialization.ts";
import { withoutHooks } from "../hooks/fire.ts";
import { describeClassProblem } from "../core/class-codec.ts";
import { isTaskFuture, type TaskFuture } from "../core/future.ts";
import { InvalidOptionError, SerializationError } from "../core/errors.ts";
import { KEEP, forEachDeep, mapDeep } from "../core/walk.ts";
import { isAllowFailure } from "../core/wrappers.ts";
import type { TaskDefinition } from "../core/task-definition.ts";
import type { Annotations, TaskSubmission } from "../core/task-runner.ts";
import type { DaskAnnotations, SubmitTask } from "./protocol.ts";

/** What the sidecar needs to find and configure the task. */
export interface TaskSpec {
  id: string;
  moduleUrl: string;
  name: string;
  options: TaskDefinition["options"];
}

/** Where an upstream's result is: a Dask dependency, and for a batch's item its position in the batch. */
export interface DaskRef {
  key: string;
  item?: number;
}

export interface UpstreamRef {
  runId: string;
  runName: string;
  allowFailure: boolean;
  /** Index into the Dask task's dependencies. */
  dep: number;
  item?: number;
}

/** One run's arguments: placeholders `{ [DEP]: i }` stand for `upstreams[i]`. */
export interface ItemPayload {
  args: unknown[];
  upstreams: UpstreamRef[];
}

export interface BatchItem {
  payload: ItemPayload;
  runId: string;
  runName: string;
}

export type ArgsPayload = ItemPayload | { batch: BatchItem[] };

const specCache = new WeakMap<TaskDefinition, Buffer>();

export function encodeSpec(def: TaskDefinition): Buffer {
  let spec = specCache.get(def);
  if (!spec) {
    if (!def.moduleUrl) {
      throw new InvalidOptionError(
        `Task '${def.name}' was not defined in a module file, so a Dask worker cannot import it. Define it with task(...) at the top level of a .ts or .js module.`,
      );
    }
    if (!def.topLevel) {
      throw new InvalidOptionError(
        `Task '${def.name}' was defined inside a function${def.definedAt ? ` (${def.definedAt})` : ""}, so a Dask worker importing its module would never define it. Define it with task(...) at the top level of a module (export const ${def.name} = task(...)) and submit that.`,
      );
    }
    // Hooks stay with the module's own task definition, and a cacheKeyFn runs in the flow process
    // (src/results/keys.ts): functions cannot cross.
    const { cacheKeyFn: _keyFn, ...options } = withoutHooks(def.options);
    const payload: TaskSpec = { id: def.id, moduleUrl: def.moduleUrl, name: def.name, options };
    spec = encodeValue(payload, `Task '${def.name}' options`);
    specCache.set(def, spec);
  }
  return spec;
}

export function daskAnnotations(a: Annotations): DaskAnnotations {
  const out: DaskAnnotations = {};
  if (a.resources) out.resources = a.resources;
  if (a.priority !== undefined) out.priority = a.priority;
  if (a.retries !== undefined) out.retries = a.retries;
  if (a.workers !== undefined) out.workers = typeof a.workers === "string" ? [a.workers] : [...a.workers];
  if (a.allowOtherWorkers !== undefined) out.allow_other_workers = a.allowOtherWorkers;
  return out;
}

/** Collects the Dask dependencies of one Dask task (shared by the items of a batch). */
class Dependencies {
  readonly keys: string[] = [];
  readonly futures: TaskFuture<unknown>[] = [];
  readonly #index = new Map<string, number>();

  constructor(
    private readonly taskName: string,
    private readonly refOf: (f: TaskFuture<unknown>) => DaskRef | undefined,
  ) {}

  /** The payload of one run: its arguments with placeholders, and where each upstream's result comes from. */
  item(s: TaskSubmission): ItemPayload {
    const upstreams: UpstreamRef[] = [];
    const seen = new Map<TaskFuture<unknown>, number>();
    const add = (future: TaskFuture<unknown>, allowFailure: boolean): number => {
      future.observed = true;
      const known = seen.get(future);
      if (known !== undefined) {
        if (allowFailure) upstreams[known]!.allowFailure = true;
        return known;
      }
      const ref = this.refOf(future);
      if (!ref) {
        throw new InvalidOptionError(
          `${this.taskName}.submit(): the future of task run '${future.taskRunName}' belongs to another task runner (another flow run). Pass its value instead: \`await future.result()\`.`,
        );
      }
      let dep = this.#index.get(ref.key);
      if (dep === undefined) {
        dep = this.keys.length;
        this.keys.push(ref.key);
        this.#index.set(ref.key, dep);
      }
      this.futures.push(future);
      const upstream: UpstreamRef = { runId: future.taskRunId, runName: future.taskRunName, allowFailure, dep };
      if (ref.item !== undefined) upstream.item = ref.item;
      seen.set(future, upstreams.length);
      return upstreams.push(upstream) - 1;
    };
    const args = mapDeep(s.args, (v) => {
      if (isTaskFuture(v)) return { [DEP]: add(v, false) };
      if (isAllowFailure(v)) return { [DEP]: add(v.future, true) };
      return KEEP;
    }) as unknown[];
    forEachDeep(s.waitFor, (v) => {
      if (isTaskFuture(v)) return add(v, false), false;
      if (isAllowFailure(v)) return add(v.future, true), false;
      return true;
    });
    return { args, upstreams };
  }
}

function encodeArgs(payload: ArgsPayload, submissions: readonly TaskSubmission[]): Buffer {
  const name = submissions[0]!.task.name;
  try {
    return encodeValue(payload, `${name}.submit()`);
  } catch (error) {
    for (const s of submissions) {
      const where = describeClassProblem(s.args, "arguments") ?? describeUnserializable(s.args, "arguments");
      if (where) throw new SerializationError(`${name}.submit(): an argument cannot be sent to a Dask worker: ${where}`);
    }
    throw new SerializationError(`${name}.submit(): the arguments cannot be sent to a Dask worker: ${(error as Error).message}`);
  }
}

export interface Encoded {
  task: SubmitTask;
  /** The upstream futures of every run in it. */
  upstreams: TaskFuture<unknown>[];
}

/** One submission as one Dask task. */
export function encodeSubmission(s: TaskSubmission, key: string, refOf: (f: TaskFuture<unknown>) => DaskRef | undefined): Encoded {
  const deps = new Dependencies(s.task.name, refOf);
  const payload = deps.item(s);
  const meta: SubmitTask["meta"] = { name: s.task.name, task_run_id: s.taskRun.id, task_run_name: s.taskRun.name, retries: s.task.options.retries ?? 0 };
  if (s.task.options.timeoutSeconds !== undefined) meta.timeout_seconds = s.task.options.timeoutSeconds;
  if (s.persist) meta.persist = s.persist;
  return {
    task: { key, spec: encodeSpec(s.task), args: encodeArgs(payload, [s]), deps: deps.keys, annotations: daskAnnotations(s.annotations), meta },
    upstreams: deps.futures,
  };
}

/**
 * Several submissions of one task as one Dask task. The worker runs the items one after another, each through
 * the task engine (own retries and state); there is no hard timeout per item, as the items share a sidecar.
 */
export function encodeBatch(submissions: readonly TaskSubmission[], key: string, refOf: (f: TaskFuture<unknown>) => DaskRef | undefined): Encoded {
  const first = submissions[0]!;
  const deps = new Dependencies(first.task.name, refOf);
  const batch = submissions.map((s) => ({ payload: deps.item(s), runId: s.taskRun.id, runName: s.taskRun.name }));
  const meta: SubmitTask["meta"] = { name: first.task.name, task_run_id: key, task_run_name: `${first.task.name} (batch of ${submissions.length})`, retries: 0 };
  if (submissions.some((s) => s.persist)) meta.persist_items = submissions.map((s) => s.persist ?? null);
  return {
    task: { key, spec: encodeSpec(first.task), args: encodeArgs({ batch }, submissions), deps: deps.keys, annotations: daskAnnotations(first.annotations), meta },
    upstreams: deps.futures,
  };
}
