/**
 * `flow(fn)` / `flow(options, fn)`: a flow run gives its function a task runner (a fresh copy of the configured one),
 * waits for every task it submitted, resolves futures and states in its return value, and ends in a final state.
 */
import { definitionSite } from "./callsite.ts";
import { type RunScope, currentScope, runInScope, scopeLogger } from "./context.ts";
import { consoleSink, loggingThreshold } from "./logger.ts";
import { CrashedRunError, FlowRunError, InvalidOptionError, TaskTimeoutError } from "./errors.ts";
import { type TaskFuture, isTaskFuture, stateError } from "./future.ts";
import { flowRunName, newRunId } from "./ids.ts";
import { type FlowOptions, validateFlowOptions } from "./options.ts";
import { type State, Completed, Crashed, Failed, StateType, formatState, isFinal } from "./state.ts";
import { KEEP, mapDeep, forEachDeep } from "./walk.ts";
import { watchFlowRun } from "./progress/index.ts";
import { ConcurrentTaskRunner } from "../runners/concurrent.ts";
import type { TaskRunner } from "../runners/task-runner.ts";

export interface Flow<A extends unknown[], R> {
  /** Runs the flow; resolves with its result, throws FlowRunError when the run fails. */
  (...args: A): Promise<Awaited<R>>;
  /** Runs the flow and resolves with its final state instead of throwing. */
  returnState(...args: A): Promise<State<Awaited<R>>>;
  readonly flowName: string;
  readonly options: Readonly<FlowOptions>;
  withOptions(options: FlowOptions): Flow<A, R>;
}

const WORKER_IMPORT = Symbol.for("daskflow.workerImport");

/** Set by a Dask worker's sidecar: flow calls made while importing user modules must not run. */
export function markWorkerProcess(): void {
  (globalThis as Record<symbol, unknown>)[WORKER_IMPORT] = true;
}

function inWorkerProcess(): boolean {
  return (globalThis as Record<symbol, unknown>)[WORKER_IMPORT] === true;
}

function isWorkerImport(): boolean {
  return inWorkerProcess() && !currentScope()?.taskRun;
}

export function flow<A extends unknown[], R>(fn: (...args: A) => R): Flow<A, R>;
export function flow<A extends unknown[], R>(options: FlowOptions, fn: (...args: A) => R): Flow<A, R>;
export function flow<A extends unknown[], R>(
  optionsOrFn: FlowOptions | ((...args: A) => R),
  maybeFn?: (...args: A) => R,
): Flow<A, R> {
  const [rawOptions, fn] = typeof optionsOrFn === "function" ? [{}, optionsOrFn] : [optionsOrFn, maybeFn];
  if (typeof fn !== "function") throw new InvalidOptionError("flow(): expected a function, as flow(fn) or flow(options, fn).");
  const options = validateFlowOptions("flow()", rawOptions);
  const name = options.name ?? (fn.name || definitionSite("flow").variable || "flow");
  return makeFlow(name, options, fn);
}

function makeFlow<A extends unknown[], R>(name: string, options: FlowOptions, fn: (...args: A) => R): Flow<A, R> {
  const returnState = (...args: A) =>
    runFlow(name, options, fn as (...a: unknown[]) => unknown, args) as Promise<State<Awaited<R>>>;
  const call = async (...args: A): Promise<Awaited<R>> => {
    const state = await returnState(...args);
    if (state.type === StateType.COMPLETED) return state.data as Awaited<R>;
    throw new FlowRunError(`Flow run of '${name}' finished in state ${formatState(state)}`, state, { cause: state.error });
  };
  return Object.assign(call, {
    returnState,
    flowName: name,
    options,
    withOptions: (more: FlowOptions) => {
      const merged = { ...options, ...validateFlowOptions(`${name}.withOptions()`, more) };
      return makeFlow(merged.name ?? name, merged, fn);
    },
  });
}

async function runFlow(name: string, options: FlowOptions, fn: (...args: unknown[]) => unknown, args: unknown[]): Promise<State<unknown>> {
  if (isWorkerImport()) {
    // A Dask worker imported the module that calls this flow at top level: never run it there.
    return new Promise(() => {});
  }
  const parent = currentScope();
  const runner: TaskRunner = (options.taskRunner ?? new ConcurrentTaskRunner()).duplicate();
  const futures = new Set<TaskFuture<unknown>>();
  const scope: RunScope = {
    flowRun: { id: newRunId(), name: flowRunName(), flowName: name, parameters: args },
    runner,
    futures,
    sink: parent?.sink ?? consoleSink,
    threshold: loggingThreshold(),
  };
  if (parent?.schedulerAddress) scope.schedulerAddress = parent.schedulerAddress;
  const log = scopeLogger(scope);
  log.info(`Beginning flow run '${scope.flowRun!.name}' for flow '${name}'`);
  const feedback = parent || inWorkerProcess() ? undefined : watchFlowRun(scope, options.progress);
  let state: State<unknown>;
  try {
    const value = await withTimeout(Promise.resolve(runInScope(scope, () => fn(...args))), options.timeoutSeconds, name);
    state = await resolveReturn(value);
  } catch (raw) {
    const error = raw instanceof Error ? raw : new Error(String(raw));
    if (error instanceof CrashedRunError) state = Crashed(error);
    else if (error instanceof TaskTimeoutError) state = Failed(error, { name: "TimedOut" });
    else state = Failed(error, { message: `Flow run encountered an exception. ${error.name}: ${error.message}` });
  }
  await settle(futures, log);
  feedback?.workDone();
  // The run's infrastructure failed under it: the run crashed, whatever its function made of that.
  if (runner.crashed) state = Crashed(runner.crashed);
  try {
    await runner.shutdown();
  } catch (raw) {
    const error = raw instanceof Error ? raw : new Error(String(raw));
    log.error(`Task runner ${runner.name} failed to shut down: ${error.message}`);
    if (state.type === StateType.COMPLETED) state = Crashed(error);
  }
  feedback?.end();
  log.info(`Finished in state ${formatState(state)}`);
  return state;
}

async function withTimeout<T>(work: Promise<T>, seconds: number | undefined, name: string): Promise<T> {
  if (seconds === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TaskTimeoutError(`Flow '${name}' exceeded its timeout of ${seconds}s.`)), seconds * 1000);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for every future of the run (tasks may submit more while we wait); names the ones nobody looked at. */
async function settle(futures: Set<TaskFuture<unknown>>, log: ReturnType<typeof scopeLogger>): Promise<void> {
  const unobserved = [...futures].filter((f) => !f.observed && !isFinal(f.state));
  if (unobserved.length > 0) {
    const names = unobserved.slice(0, 10).map((f) => `'${f.taskRunName}'`).join(", ");
    const more = unobserved.length > 10 ? ` and ${unobserved.length - 10} more` : "";
    log.warning(
      `The flow function returned while ${unobserved.length} submitted task run(s) were still running and never waited for: ${names}${more}. Waiting for them before ending the run; call .wait() or .result() on futures, or return them, to make this explicit.`,
    );
  }
  for (;;) {
    const open = [...futures].filter((f) => !isFinal(f.state));
    if (open.length === 0) return;
    await Promise.all(open.map((f) => new Promise((resolve) => f.onFinal(resolve))));
  }
}

function isState(value: unknown): value is State<unknown> {
  return typeof value === "object" && value !== null && "type" in value && "timestamp" in value && "name" in value &&
    Object.values(StateType).includes((value as State<unknown>).type);
}

/** A flow's result: its return value with futures and states resolved; any that did not complete fails the run. */
async function resolveReturn(value: unknown): Promise<State<unknown>> {
  const found: Array<TaskFuture<unknown> | State<unknown>> = [];
  forEachDeep(value, (v) => {
    if (isTaskFuture(v) || isState(v)) return found.push(v), false;
    return true;
  });
  if (found.length === 0) return Completed(value);
  const resolved = new Map<unknown, unknown>();
  const failures: State<unknown>[] = [];
  await Promise.all(
    found.map(async (item) => {
      const state = isTaskFuture(item) ? await item.wait() : item;
      if (state.type === StateType.COMPLETED) {
        resolved.set(item, isTaskFuture(item) ? await item.loadData(state) : state.load ? await state.load() : state.data);
      } else {
        failures.push(state);
        resolved.set(item, stateError(state, isTaskFuture(item) ? item.taskRunName : "returned state"));
      }
    }),
  );
  const data = mapDeep(value, (v) => (resolved.has(v) ? resolved.get(v) : KEEP));
  if (failures.length === 0) return Completed(data);
  const crashed = failures.some((s) => s.type === StateType.CRASHED);
  const first = failures[0]!;
  const message = `${failures.length}/${found.length} states in the flow's return value did not complete: ${formatState(first)}`;
  const error = first.error ?? stateError(first, "returned state");
  return crashed ? Crashed(error, { message }) : Failed(error, { message });
}
