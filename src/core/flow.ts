/**
 * `flow(fn)` / `flow(options, fn)`: a flow run gives its function a task runner (a fresh copy of the configured one),
 * waits for every task it submitted, resolves futures and states in its return value, and ends in a final state.
 */
import { definitionSite } from "./callsite.ts";
import { anchorModule } from "./module-classes.ts";
import { noteFlowCallOnWorker } from "./task-definition.ts";
import { type RunScope, currentScope, runInScope, scopeLogger } from "./context.ts";
import { consoleSink, loggingThreshold } from "./logger.ts";
import { CrashedRunError, InvalidOptionError, TaskTimeoutError } from "./errors.ts";
import { type TaskFuture, isTaskFuture, stateError } from "./future.ts";
import { flowRunName, newRunId } from "./ids.ts";
import { type FlowOptions, validateFlowOptions } from "./options.ts";
import { type FailedPart, type State, FlowRunError, Completed, Crashed, Failed, Running, StateType, formatState, withFields } from "./state.ts";
import { KEEP, mapDeep, forEachDeep } from "./walk.ts";
import { watchFlowRun } from "./progress/index.ts";
import { RunFutures } from "./run-futures.ts";
import { type RunObserver, historyOff, observing } from "./observer.ts";
import { ConcurrentTaskRunner } from "../runners/concurrent.ts";
import { beginDurable, findResume, retryFlow } from "../results/flow-run.ts";
import type { TaskRunner } from "./task-runner.ts";
import { fireFlowHooks } from "../hooks/fire.ts";
import type { HookedFlow } from "../hooks/types.ts";

export interface Flow<A extends unknown[], R> {
  /** Runs the flow; resolves with its result, throws FlowRunError when the run fails. */
  (...args: A): Promise<Awaited<R>>;
  /** Runs the flow and resolves with its final state instead of throwing. */
  returnState(...args: A): Promise<State<Awaited<R>>>;
  readonly flowName: string;
  readonly options: Readonly<FlowOptions>;
  withOptions(options: FlowOptions): Flow<A, R>;
  /** A new run with the parameters of run `flowRunId` (or "last"), reusing its persisted task runs whose inputs and
   * source are unchanged (docs/durable-runs.md). */
  resume(flowRunId: string): Promise<Awaited<R>>;
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
  const site = definitionSite("flow");
  anchorModule(site.moduleUrl, fn); // classes of a module that ends in `await myFlow()` are reached through it
  const name = options.name ?? (fn.name || site.variable || "flow");
  return makeFlow(name, options, fn);
}

function makeFlow<A extends unknown[], R>(name: string, options: FlowOptions, fn: (...args: A) => R): Flow<A, R> {
  const returnState = (...args: A) =>
    runFlow(name, options, fn as (...a: unknown[]) => unknown, args, made) as Promise<State<Awaited<R>>>;
  const finish = async (running: Promise<State<Awaited<R>>>): Promise<Awaited<R>> => {
    const state = await running;
    if (state.type === StateType.COMPLETED) return state.data as Awaited<R>;
    throw new FlowRunError(`Flow run of '${name}' finished in state ${formatState(state)}`, state, { cause: state.error });
  };
  const call = (...args: A) => finish(returnState(...args));
  const made: Flow<A, R> = Object.assign(call, {
    returnState,
    flowName: name,
    options,
    withOptions: (more: FlowOptions) => {
      const merged = { ...options, ...validateFlowOptions(`${name}.withOptions()`, more) };
      return makeFlow(merged.name ?? name, merged, fn);
    },
    resume: (flowRunId: string) => finish(runFlow(name, options, fn as (...a: unknown[]) => unknown, [], made, flowRunId) as Promise<State<Awaited<R>>>),
  });
  return made;
}

async function runFlow(name: string, options: FlowOptions, fn: (...args: unknown[]) => unknown, args: unknown[], self: HookedFlow, resumeId?: string): Promise<State<unknown>> {
  if (isWorkerImport()) {
    // A Dask worker imported the module that calls this flow at top level: never run it there.
    const site = definitionSite("flow");
    if (site.topLevel && site.moduleUrl) noteFlowCallOnWorker(site.moduleUrl, { flowName: name });
    return new Promise(() => {});
  }
  const parent = currentScope();
  const runner: TaskRunner = (options.taskRunner ?? new ConcurrentTaskRunner()).duplicate();
  const futures = new RunFutures();
  const topLevel = !parent && !inWorkerProcess();
  const resume = await findResume(name, options, runner, resumeId, topLevel);
  if (resume) args = resume.parameters;
  // A nested flow run records when its parent does; the parent's sink already records logs.
  const observer = parent ? observing.observer : await historyObserver();
  const scope: RunScope = {
    flowRun: { id: newRunId(), name: flowRunName(), flowName: name, parameters: args, ...(resume ? { resumedFrom: resume.resumedFrom } : {}) },
    runner,
    futures,
    sink: parent?.sink ?? (observer ? observer.recordLogs(consoleSink) : consoleSink),
    threshold: loggingThreshold(),
  };
  if (parent?.schedulerAddress) scope.schedulerAddress = parent.schedulerAddress;
  const log = scopeLogger(scope);
  observer?.flowStarted(scope.flowRun!, runner, { ...(parent?.flowRun && { flowRunId: parent.flowRun.id }), ...(parent?.taskRun && { taskRunId: parent.taskRun.id }) });
  const durable = await beginDurable(options, scope as RunScope & { runner: TaskRunner }, resume, topLevel);
  log.info(`Beginning flow run '${scope.flowRun!.name}' for flow '${name}'${resume ? ` (resuming flow run ${resume.resumedFrom})` : ""}`);
  const feedback = parent || inWorkerProcess() ? undefined : watchFlowRun(scope, options.progress);
  let state: State<unknown> = Running();
  await fireFlowHooks(self, options, scope.flowRun!, state, scope);
  for (;;) {
    try {
      // The timeout bounds the whole run: resolving the futures it returns too.
      const timedOut = () => cancelOpen(futures, log, `at the flow's timeout of ${options.timeoutSeconds}s`);
      state = await withTimeout(Promise.resolve(runInScope(scope, () => fn(...args))).then(resolveReturn), options.timeoutSeconds, name, timedOut);
    } catch (raw) {
      const error = raw instanceof Error ? raw : new Error(String(raw));
      if (error instanceof CrashedRunError) state = Crashed(error);
      else if (error instanceof TaskTimeoutError) state = Failed(error, { name: "TimedOut" });
      else state = Failed(error, { message: `Flow run encountered an exception. ${error.name}: ${error.message}` });
    }
    if (!(await retryFlow(durable, options, state, log, () => settle(futures, log)))) break;
  }
  await durable.settled();
  await settle(futures, log);
  feedback?.workDone();
  // The run's infrastructure failed under it: the run crashed, whatever its function made of that.
  if (runner.crashed) state = Crashed(runner.crashed);
  state = withFailedRuns(state, futures);
  try {
    await runner.shutdown();
  } catch (raw) {
    const error = raw instanceof Error ? raw : new Error(String(raw));
    log.error(`Task runner ${runner.name} failed to shut down: ${error.message}`);
    if (state.type === StateType.COMPLETED) state = Crashed(error);
  }
  feedback?.end();
  if (topLevel) durable.forgetDefaultRecords(state);
  // Whatever ended the run (its function, a timeout, its runner's infrastructure failing): the hooks of that state.
  await fireFlowHooks(self, options, scope.flowRun!, state, scope);
  log.info(`Finished in state ${formatState(state)}`);
  await observer?.flowEnded(scope.flowRun!, state, runner);
  return state;
}

let recorder: Promise<RunObserver | undefined> | undefined;

/** The run history's recorder, loaded on the first flow run of the flow process (never in a worker's sidecar). */
async function historyObserver(): Promise<RunObserver | undefined> {
  if (inWorkerProcess() || historyOff()) return undefined;
  recorder ??= import("../history/recorder.ts").then((m) => m.processRecorder(), () => undefined);
  return (observing.observer = await recorder);
}

async function withTimeout<T>(work: Promise<T>, seconds: number | undefined, name: string, onTimeout: () => void): Promise<T> {
  if (seconds === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new TaskTimeoutError(`Flow '${name}' exceeded its timeout of ${seconds}s.`));
      onTimeout();
    }, seconds * 1000);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Cancels the run's task runs still going (past the flow's timeout, nothing may keep the run waiting). */
function cancelOpen(futures: RunFutures, log: ReturnType<typeof scopeLogger>, when: string): void {
  const open = [...futures.open].filter((f) => !f.done);
  const cancelled = open.filter((f) => f.cancel());
  if (cancelled.length) log.warning(`Cancelled ${cancelled.length} task run(s) still running ${when}: ${cancelled.slice(0, 10).map((f) => `'${f.taskRunName}'`).join(", ")}${cancelled.length > 10 ? " and more" : ""}.`);
}

/** Waits for every future of the run (tasks may submit more while we wait); names the ones nobody looked at. */
async function settle(futures: RunFutures, log: ReturnType<typeof scopeLogger>): Promise<void> {
  const unobserved = [...futures.open].filter((f) => !f.observed);
  if (unobserved.length > 0) {
    const names = unobserved.slice(0, 10).map((f) => `'${f.taskRunName}'`).join(", ");
    const more = unobserved.length > 10 ? ` and ${unobserved.length - 10} more` : "";
    log.warning(
      `The flow function returned while ${unobserved.length} submitted task run(s) were still running and never waited for: ${names}${more}. Waiting for them before ending the run; call .wait() or .result() on futures, or return them, to make this explicit.`,
    );
  }
  await futures.settled();
}

function isState(value: unknown): value is State<unknown> {
  return typeof value === "object" && value !== null && "type" in value && "timestamp" in value && "name" in value &&
    Object.values(StateType).includes((value as State<unknown>).type);
}

/**
 * A flow's result: its return value with futures and states resolved at any depth. Stricter than Prefect (which
 * fails the run only when the value is itself a state or a list of states): any part that did not complete fails
 * the run, and the message says where it sits in the value.
 */
async function resolveReturn(value: unknown): Promise<State<unknown>> {
  const found: Array<{ item: TaskFuture<unknown> | State<unknown>; path: string }> = [];
  forEachDeep(
    value,
    (v, path) => {
      if (isTaskFuture(v) || isState(v)) return found.push({ item: v, path }), false;
      return true;
    },
    "result",
  );
  if (found.length === 0) return Completed(value);
  const resolved = new Map<unknown, unknown>();
  const failed: Array<FailedPart | undefined> = [];
  await Promise.all(
    found.map(async ({ item, path }, index) => {
      const state = isTaskFuture(item) ? await item.wait() : item;
      if (state.type === StateType.COMPLETED) {
        resolved.set(item, isTaskFuture(item) ? await item.loadData(state) : state.load ? await state.load() : state.data);
        return;
      }
      const part: FailedPart = isTaskFuture(item) ? { path, taskRunId: item.taskRunId, taskRunName: item.taskRunName, state } : { path, state };
      failed[index] = part; // in the order of the value, not of completion
      resolved.set(item, stateError(state, part.taskRunName ?? "returned state"));
    }),
  );
  const data = mapDeep(value, (v) => (resolved.has(v) ? resolved.get(v) : KEEP));
  const failures = failed.filter((f) => f !== undefined);
  if (failures.length === 0) return Completed(data);
  const crashed = failures.some((f) => f.state.type === StateType.CRASHED);
  const first = failures[0]!;
  const named = failures.slice(0, 3).map(describePart).join("; ");
  const more = failures.length > 3 ? `; and ${failures.length - 3} more` : "";
  const message = `${failures.length}/${found.length} states in the flow's return value did not complete: ${named}${more}`;
  const error = first.state.error ?? stateError(first.state, first.taskRunName ?? "returned state");
  return crashed ? Crashed(error, { message, failures }) : Failed(error, { message, failures });
}

function describePart(part: FailedPart): string {
  const run = part.taskRunName ? ` (task run '${part.taskRunName}')` : "";
  const { error, message } = part.state;
  const why = error ? `: ${error.name}: ${error.message}` : message ? `: ${message}` : "";
  return `${part.path ?? "a task run"} ended ${part.state.name}${why}${run}`;
}

/** The failed state with every task run of the flow that failed or crashed added to its `failures`. */
function withFailedRuns(state: State<unknown>, futures: RunFutures): State<unknown> {
  if (state.type !== StateType.FAILED && state.type !== StateType.CRASHED) return state;
  const parts = [...(state.failures ?? [])];
  const listed = new Set(parts.map((p) => p.taskRunId));
  for (const failed of futures.failures) if (!listed.has(failed.taskRunId)) parts.push(failed);
  return parts.length ? withFields(state, { failures: parts }) : state;
}
