/**
 * Turning a submission into what the bridge sends to Dask: the task spec (which module and task to run), the
 * argument bytes with futures replaced by placeholders, and the keys of the upstreams Dask must feed in.
 */
import { encodeValue, DEP, describeUnserializable } from "../core/serialization.ts";
import { isTaskFuture, type TaskFuture } from "../core/future.ts";
import { InvalidOptionError, SerializationError } from "../core/errors.ts";
import { KEEP, forEachDeep, mapDeep } from "../core/walk.ts";
import { isAllowFailure } from "../core/wrappers.ts";
import type { TaskDefinition } from "../core/task-definition.ts";
import type { Annotations, TaskSubmission } from "../runners/task-runner.ts";
import type { DaskAnnotations, SubmitTask } from "./protocol.ts";

/** What the sidecar needs to find and configure the task. */
export interface TaskSpec {
  id: string;
  moduleUrl: string;
  name: string;
  options: TaskDefinition["options"];
}

/** The argument payload: arguments with placeholders, and per upstream how to treat its failure. */
export interface ArgsPayload {
  args: unknown[];
  upstreams: Array<{ runName: string; allowFailure: boolean }>;
}

const specCache = new WeakMap<TaskDefinition, Buffer>();

export function encodeSpec(def: TaskDefinition): Buffer {
  let spec = specCache.get(def);
  if (!spec) {
    if (!def.moduleUrl) {
      throw new InvalidOptionError(
        `Task '${def.name}' was not defined in a module file, so a Dask worker cannot import it. Define it with task(...) at the top level of a .ts or .js module.`,
      );
    }
    const payload: TaskSpec = { id: def.id, moduleUrl: def.moduleUrl, name: def.name, options: def.options };
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

/**
 * Builds the Dask task for a submission. `keyOf` gives the Dask key of an upstream future of this runner, or
 * undefined for a future it does not know (from another flow run).
 */
export function encodeSubmission(s: TaskSubmission, key: string, keyOf: (f: TaskFuture<unknown>) => string | undefined): { task: SubmitTask; upstreams: TaskFuture<unknown>[] } {
  const order = new Map<TaskFuture<unknown>, number>();
  const upstreams: ArgsPayload["upstreams"] = [];
  const futures: TaskFuture<unknown>[] = [];
  const indexOf = (future: TaskFuture<unknown>, allowFailure: boolean): number => {
    future.observed = true;
    let index = order.get(future);
    if (index === undefined) {
      index = futures.length;
      order.set(future, index);
      futures.push(future);
      upstreams.push({ runName: future.taskRunName, allowFailure });
    } else if (allowFailure) upstreams[index]!.allowFailure = true;
    return index;
  };
  const args = mapDeep(s.args, (v) => {
    if (isTaskFuture(v)) return { [DEP]: indexOf(v, false) };
    if (isAllowFailure(v)) return { [DEP]: indexOf(v.future, true) };
    return KEEP;
  }) as unknown[];
  forEachDeep(s.waitFor, (v) => {
    if (isTaskFuture(v)) return indexOf(v, false), false;
    if (isAllowFailure(v)) return indexOf(v.future, true), false;
    return true;
  });
  const deps = futures.map((f) => {
    const depKey = keyOf(f);
    if (depKey === undefined) {
      throw new InvalidOptionError(
        `${s.task.name}.submit(): the future of task run '${f.taskRunName}' belongs to another task runner (another flow run). Pass its value instead: \`await future.result()\`.`,
      );
    }
    return depKey;
  });
  let argBytes: Buffer;
  try {
    argBytes = encodeValue({ args, upstreams } satisfies ArgsPayload, `${s.task.name}.submit()`);
  } catch (error) {
    const where = describeUnserializable(s.args, "arguments");
    throw new SerializationError(
      `${s.task.name}.submit(): an argument cannot be sent to a Dask worker: ${where ?? (error as Error).message}`,
    );
  }
  const meta: SubmitTask["meta"] = {
    name: s.task.name,
    task_run_id: s.taskRun.id,
    task_run_name: s.taskRun.name,
    retries: s.task.options.retries ?? 0,
  };
  if (s.task.options.timeoutSeconds !== undefined) meta.timeout_seconds = s.task.options.timeoutSeconds;
  return {
    task: { key, spec: encodeSpec(s.task), args: argBytes, deps, annotations: daskAnnotations(s.annotations), meta },
    upstreams: futures,
  };
}
