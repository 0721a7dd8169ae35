/**
 * `task(fn)` / `task(options, fn)`: a callable task with `submit`, `map`, `with` and `withOptions`.
 */
import { definitionSite } from "./callsite.ts";
import { type RunScope, TaskRunInfo, currentAnnotations, currentScope, rootScope } from "./context.ts";
import type { TaskRunner, TaskSubmission } from "./task-runner.ts";
import { runTask } from "./engine.ts";
import { DaskflowError, InvalidOptionError } from "./errors.ts";
import { TaskFuture, isTaskFuture, stateError, setFutureState } from "./future.ts";
import { newRunId, taskRunName } from "./ids.ts";
import { type CallOptions, type TaskOptions, validateCallOptions, validateTaskOptions } from "./options.ts";
import { StateType, Scheduled } from "./state.ts";
import { observing } from "./observer.ts";
import { anchorModule } from "./module-classes.ts";
import { type TaskDefinition, nestedTaskId, nextTaskId, registerTask } from "./task-definition.ts";
import type { FuturableArgs, MapArgs, Result } from "./types.ts";
import { resolveFutures, collectUpstreams, notReadyFor, upstreamRun } from "./upstream.ts";
import { isAllowFailure, isUnmapped } from "./wrappers.ts";
import { noteHookedTask } from "../hooks/fire.ts";
import { dispatch } from "../results/durable.ts";

export interface TaskCall<A extends unknown[], R> {
  /** Sends one run to the flow's task runner; returns its future at once. */
  submit(this: void, ...args: FuturableArgs<A>): TaskFuture<Result<R>>;
  /** One run per item of the iterable arguments; `unmapped(x)` and plain values go to every run. */
  map(this: void, ...args: MapArgs<A>): TaskFuture<Result<R>>[];
}

export interface Task<A extends unknown[], R> extends TaskCall<A, R> {
  /** Runs the task here, now, and returns its result (throws its error). */
  (...args: FuturableArgs<A>): Promise<Result<R>>;
  readonly taskName: string;
  readonly options: Readonly<TaskOptions>;
  /** @internal */
  readonly definition: TaskDefinition;
  /** Per-call options: `waitFor`, and for `map` `batchSize`. */
  with(call: CallOptions): TaskCall<A, R>;
  /** A variant of this task with some options replaced. */
  withOptions(options: TaskOptions): Task<A, R>;
}

export function task<A extends unknown[], R>(fn: (...args: A) => R): Task<A, R>;
export function task<A extends unknown[], R>(options: TaskOptions, fn: (...args: A) => R): Task<A, R>;
export function task<A extends unknown[], R>(
  optionsOrFn: TaskOptions | ((...args: A) => R),
  maybeFn?: (...args: A) => R,
): Task<A, R> {
  const [rawOptions, fn] = typeof optionsOrFn === "function" ? [{}, optionsOrFn] : [optionsOrFn, maybeFn];
  if (typeof fn !== "function") {
    throw new InvalidOptionError("task(): expected a function, as task(fn) or task(options, fn).");
  }
  const options = validateTaskOptions("task()", rawOptions);
  const site = definitionSite("task");
  const { id, ordinal } = site.topLevel ? nextTaskId(site.moduleUrl) : nestedTaskId(site.moduleUrl);
  const name = options.name ?? (fn.name || site.variable || "task");
  const def: TaskDefinition = { id, name, fn: fn, options, moduleUrl: site.moduleUrl, ordinal, topLevel: site.topLevel };
  if (site.at) (def as { definedAt?: string }).definedAt = site.at;
  registerTask(def);
  anchorModule(site.moduleUrl, fn);
  return makeTask<A, R>(def);
}

function makeTask<A extends unknown[], R>(def: TaskDefinition): Task<A, R> {
  const call = (...args: FuturableArgs<A>) => callDirect(def, args) as Promise<Result<R>>;
  const bound = bindCalls<A, R>(def, {});
  const made = Object.assign(call, {
    taskName: def.name,
    options: def.options,
    definition: def,
    submit: bound.submit,
    map: bound.map,
    with: (callOptions: CallOptions) => bindCalls<A, R>(def, validateCallOptions(`${def.name}.with()`, callOptions)),
    withOptions: (options: TaskOptions) => {
      const merged = { ...def.options, ...validateTaskOptions(`${def.name}.withOptions()`, options) };
      return makeTask<A, R>({ ...def, name: merged.name ?? def.name, options: merged });
    },
  });
  noteHookedTask(def, made);
  return made;
}

function newTaskRun(def: TaskDefinition): TaskRunInfo {
  return new TaskRunInfo(newRunId(), taskRunName(def.name), def.name, def.options.tags ?? []);
}

/** `await t(x)`: the engine runs here; nested submits go to the enclosing flow's runner. */
async function callDirect(def: TaskDefinition, args: readonly unknown[]): Promise<unknown> {
  const outer: RunScope = currentScope() ?? rootScope();
  const taskRun = newTaskRun(def);
  const upstreams = collectUpstreams(args);
  for (const { future, allowFailure } of upstreams) {
    const state = await future.wait();
    const notReady = notReadyFor(upstreamRun(future), state, allowFailure);
    if (notReady) throw stateError(notReady, taskRun.name);
  }
  const resolved = upstreams.length ? await resolveFutures([...args]) : args;
  // The run history records direct calls too: a run with no future, its states straight from the engine.
  const run = observing.observer && { taskRunId: taskRun.id, taskRunName: taskRun.name, daskKey: undefined };
  if (run) observing.observer?.taskSubmitted({ args, waitFor: [], taskRun, flowRun: outer.flowRun, future: run });
  const final = await runTask(def, resolved, taskRun, { ...outer, onState: run ? (state) => observing.observer?.taskState(run, state) : () => {} });
  if (final.type !== StateType.COMPLETED) throw stateError(final, taskRun.name);
  return final.data;
}

function bindCalls<A extends unknown[], R>(def: TaskDefinition, call: CallOptions): TaskCall<A, R> {
  const submit = (...args: FuturableArgs<A>) => submitOne(def, args, call) as TaskFuture<Result<R>>;
  const map = (...args: MapArgs<A>) => mapRows(def, mapArgs(def.name, args), call) as TaskFuture<Result<R>>[];
  return { submit, map };
}

function runScope(def: TaskDefinition, what: string): RunScope & { runner: TaskRunner } {
  const scope = currentScope();
  if (!scope?.runner) {
    throw new DaskflowError(
      `${def.name}.${what}() was called outside a flow run. Call it inside a flow function, or call the task directly with \`await ${def.name}(...)\`.`,
    );
  }
  return scope as RunScope & { runner: TaskRunner };
}

function submission(def: TaskDefinition, args: readonly unknown[], call: CallOptions, scope: RunScope & { runner: TaskRunner }): TaskSubmission {
  const taskRun = newTaskRun(def);
  const future = new TaskFuture<unknown>(taskRun.id, taskRun.name, scope.runner);
  const s: TaskSubmission = { task: def, args, waitFor: call.waitFor ?? [], annotations: currentAnnotations(), taskRun, flowRun: scope.flowRun, future };
  observing.observer?.taskSubmitted(s);
  future[setFutureState](Scheduled());
  return s;
}

function submitOne(def: TaskDefinition, args: readonly unknown[], call: CallOptions): TaskFuture<unknown> {
  const scope = runScope(def, "submit");
  const s = submission(def, args, call, scope);
  dispatch(scope, [s], false);
  scope.futures?.add(s.future);
  return s.future;
}

/** Maps of at least this many items are batched automatically on runners that support batches. */
export const AUTO_BATCH_MIN_ITEMS = 1000;
/** An automatic batch size aims at about this many runner calls per map. */
const AUTO_BATCH_TARGET_CALLS = 256;
const AUTO_BATCH_MAX = 500;

/**
 * The batch size for a map: the caller's, else automatic for many items on a runner with batches, unless the task
 * has a timeout (a runaway synchronous item is stopped by recycling its Dask task's sidecar, which a batch shares).
 */
export function batchSizeFor(def: TaskDefinition, items: number, call: CallOptions, runner: TaskRunner): number {
  if (!runner.submitBatch) return 1;
  if (call.batchSize !== undefined) return call.batchSize;
  if (items < AUTO_BATCH_MIN_ITEMS || def.options.timeoutSeconds !== undefined) return 1;
  return Math.min(AUTO_BATCH_MAX, Math.ceil(items / AUTO_BATCH_TARGET_CALLS));
}

function mapRows(def: TaskDefinition, rows: unknown[][], call: CallOptions): TaskFuture<unknown>[] {
  const scope = runScope(def, "map");
  const size = batchSizeFor(def, rows.length, call, scope.runner);
  if (size <= 1) return rows.map((row) => submitOne(def, row, call));
  const futures: TaskFuture<unknown>[] = [];
  for (let start = 0; start < rows.length; start += size) {
    const batch = rows.slice(start, start + size).map((row) => submission(def, row, call, scope));
    dispatch(scope, batch, true);
    for (const s of batch) {
      scope.futures?.add(s.future);
      futures.push(s.future);
    }
  }
  return futures;
}

function isIterableArg(value: unknown): value is Iterable<unknown> {
  if (value === null || value === undefined || typeof value === "string") return false;
  if (isTaskFuture(value) || isAllowFailure(value) || isUnmapped(value)) return false;
  return typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}

/** Turns map arguments into one argument list per run. */
export function mapArgs(taskName: string, args: readonly unknown[]): unknown[][] {
  const columns = args.map((arg) => (isIterableArg(arg) ? [...arg] : undefined));
  const lengths = columns.flatMap((c, i) => (c ? [[i, c.length] as const] : []));
  if (lengths.length === 0) {
    const future = args.some(isTaskFuture);
    throw new InvalidOptionError(
      `${taskName}.map(): no argument to map over. Pass at least one array (or other iterable)` +
        (future ? "; a future is not mapped over: use `await future.result()` first, or wrap it in unmapped(...)" : "") +
        "; wrap values meant for every run in unmapped(...).",
    );
  }
  const n = lengths[0]![1];
  if (lengths.some(([, len]) => len !== n)) {
    const described = lengths.map(([i, len]) => `argument ${i + 1} has ${len}`).join(", ");
    throw new InvalidOptionError(
      `${taskName}.map(): the iterable arguments differ in length (${described}). Give them equal lengths, or wrap the ones meant for every run in unmapped(...).`,
    );
  }
  const rows: unknown[][] = [];
  for (let r = 0; r < n; r++) {
    rows.push(args.map((arg, i) => (columns[i] ? columns[i][r] : isUnmapped(arg) ? arg.value : arg)));
  }
  return rows;
}
