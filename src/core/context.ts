/**
 * Run context through AsyncLocalStorage, so `getRunLogger()` and `getRunContext()` work at any depth of a flow or
 * task. The storage lives on globalThis: a worker's sidecar may load daskflow twice (its own copy and the user's),
 * and both must see one context.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { MissingContextError } from "./errors.ts";
import { type LogLevel, type LogSink, type RunLogger, LEVELS, consoleSink, loggingThreshold, makeLogger } from "./logger.ts";
import type { FlowRunInfo, TaskRunInfo } from "./run-info.ts";
import type { RunFutures } from "./run-futures.ts";
import type { TaskRunner, Annotations } from "./task-runner.ts";

export { type FlowRunInfo, TaskRunInfo } from "./run-info.ts";

/** What the engine keeps per scope. */
export interface RunScope {
  flowRun?: FlowRunInfo;
  taskRun?: TaskRunInfo;
  /** Where submits in this scope go. */
  runner?: TaskRunner;
  /** Task runs created in the flow run: the open ones are awaited before it ends. */
  futures?: RunFutures;
  sink: LogSink;
  /** Logging threshold, read from DASKFLOW_LOGGING_LEVEL once per flow run. */
  threshold: number;
  /** Set inside a Dask worker's sidecar: the scheduler that nested submits reuse. */
  schedulerAddress?: string;
  /** Set inside a Dask worker's sidecar: where the task runs. */
  worker?: DaskWorkerInfo;
}

interface Stores {
  runs: AsyncLocalStorage<RunScope>;
  annotations: AsyncLocalStorage<Annotations>;
}

const KEY = Symbol.for("daskflow.context");
const g = globalThis as unknown as Record<symbol, Stores | undefined>;
const stores: Stores = (g[KEY] ??= { runs: new AsyncLocalStorage(), annotations: new AsyncLocalStorage() });

export function currentScope(): RunScope | undefined {
  return stores.runs.getStore();
}

export function runInScope<T>(scope: RunScope, fn: () => T): T {
  return stores.runs.run(scope, fn);
}

export function currentAnnotations(): Annotations {
  return stores.annotations.getStore() ?? {};
}

/** Merges `annotations` over the ambient ones for everything `fn` submits, sync or async. */
export function withAnnotations<T>(annotations: Annotations, fn: () => T): T {
  const outer = currentAnnotations();
  const merged: Annotations = { ...outer, ...annotations };
  if (outer.resources && annotations.resources) merged.resources = { ...outer.resources, ...annotations.resources };
  return stores.annotations.run(merged, fn);
}

export function runLabel(scope: RunScope): string {
  if (scope.taskRun) return `Task run '${scope.taskRun.name}'`;
  if (scope.flowRun) return `Flow run '${scope.flowRun.name}'`;
  return "";
}

/** The ids a log record of the scope carries (the run history files it under them). */
function runIds(scope: RunScope): { flowRunId?: string; taskRunId?: string } {
  const ids: { flowRunId?: string; taskRunId?: string } = {};
  if (scope.flowRun) ids.flowRunId = scope.flowRun.id;
  if (scope.taskRun) ids.taskRunId = scope.taskRun.id;
  return ids;
}

export function scopeLogger(scope: RunScope): RunLogger {
  return makeLogger(() => runLabel(scope), scope.sink, scope.threshold, runIds(scope));
}

/** Logs one record for the scope's run without building a logger (the engine's per-task messages). */
export function scopeLog(scope: RunScope, level: LogLevel, message: string): void {
  if (LEVELS[level] < scope.threshold) return;
  scope.sink({ level, message, run: runLabel(scope), timestamp: Date.now(), ...runIds(scope) });
}

/** The scope of code outside any run (direct task calls, library messages). */
export function rootScope(): RunScope {
  return { sink: consoleSink, threshold: loggingThreshold() };
}

/** A logger for the current flow or task run; its records carry the run's name. */
export function getRunLogger(): RunLogger {
  const scope = currentScope();
  if (!scope || (!scope.flowRun && !scope.taskRun)) {
    throw new MissingContextError("getRunLogger() was called outside a flow or task run. Call it inside a flow or task function.");
  }
  return scopeLogger(scope);
}

/** The Dask worker a task runs on. */
export interface DaskWorkerInfo {
  readonly address: string;
  readonly schedulerAddress: string;
}

export interface RunContext {
  readonly flowRun?: FlowRunInfo;
  readonly taskRun?: TaskRunInfo;
  readonly taskRunner?: TaskRunner;
  /** Inside a task on a Dask worker: that worker. */
  readonly worker?: DaskWorkerInfo;
}

/** The current flow run and task run (whichever apply), wherever the task runs. */
export function getRunContext(): RunContext {
  const scope = currentScope();
  if (!scope || (!scope.flowRun && !scope.taskRun)) {
    throw new MissingContextError("getRunContext() was called outside a flow or task run. Call it inside a flow or task function.");
  }
  const ctx: { -readonly [K in keyof RunContext]: RunContext[K] } = {};
  if (scope.worker) ctx.worker = scope.worker;
  if (scope.flowRun) ctx.flowRun = scope.flowRun;
  if (scope.taskRun) ctx.taskRun = scope.taskRun;
  if (scope.runner) ctx.taskRunner = scope.runner;
  return ctx;
}

