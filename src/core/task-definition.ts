/**
 * A task's definition and the registry that lets a Dask worker find it again. A task is identified by the module
 * that defined it and its position among that module's task definitions, which is the same in every process that
 * imports the module.
 */

import type { TaskHookOptions } from "../hooks/types.ts";

/** A task's options (validated in options.ts, which re-exports this type; kept here so nothing below imports it). */
export interface TaskOptions extends TaskHookOptions {
  /** Display name; default the function's name, else the name it is assigned to. */
  name?: string;
  description?: string;
  /** How many times to retry a failed attempt. Default 0. */
  retries?: number;
  /** Seconds before each retry: one number for all, or one per retry (the last repeats). Default 0. */
  retryDelaySeconds?: number | readonly number[];
  /** Spread each delay randomly by up to this fraction (0.5 → ±50%) so retries do not arrive together. */
  retryJitterFactor?: number;
  /** Fail an attempt that runs longer than this. */
  timeoutSeconds?: number;
  tags?: readonly string[];
  /** Write each completed run's value to the flow's result storage (docs/durable-runs.md). Default: the flow's. */
  persistResult?: boolean;
  /** What a cached run's key is made of; any cache option implies persistResult. */
  cachePolicy?: CachePolicy | readonly CachePolicy[];
  /** A key of your own from the arguments (futures appear as their cache keys); joined with the task's identity. */
  cacheKeyFn?: (args: readonly unknown[], context: CacheKeyContext) => string;
  /** A cached value is used for this long after it was written. Default: forever. */
  cacheExpirationSeconds?: number;
  /** Run and overwrite the cached value instead of reading it. */
  refreshCache?: boolean;
}

export type CachePolicy = "inputs" | "taskSource" | "flowParameters" | "runId" | "none";

export interface CacheKeyContext {
  taskName: string;
  flowRunId: string | undefined;
  parameters: readonly unknown[];
}

export interface TaskDefinition {
  /** `${moduleUrl}#${ordinal}`, or `anonymous#n` when defined outside a file module. */
  readonly id: string;
  readonly name: string;
  readonly fn: (...args: never[]) => unknown;
  readonly options: Readonly<TaskOptions>;
  readonly moduleUrl: string | undefined;
  readonly ordinal: number;
  /** Made while its module loaded (so a worker importing the module makes it too); see DefinitionSite.topLevel. */
  readonly topLevel: boolean;
  /** Where it was defined, `file:line`, for messages. */
  readonly definedAt?: string;
}

interface Registry {
  byId: Map<string, TaskDefinition>;
  perModule: Map<string, number>;
  waiters: Map<string, Array<(def: TaskDefinition) => void>>;
  /** On a worker: modules whose top level called a flow, which does not run there (see noteFlowCallOnWorker). */
  flowCalls?: Map<string, FlowCallOnWorker>;
}

export interface FlowCallOnWorker {
  flowName: string;
  /** When it was made (Date.now()). */
  since: number;
}

const KEY = Symbol.for("daskflow.taskRegistry");
const g = globalThis as unknown as Record<symbol, Registry | undefined>;
const registry: Registry = (g[KEY] ??= { byId: new Map(), perModule: new Map(), waiters: new Map() });

/** Allocates the next id for a definition made in `moduleUrl`. */
export function nextTaskId(moduleUrl: string | undefined): { id: string; ordinal: number } {
  const module = moduleUrl ?? "anonymous";
  const ordinal = registry.perModule.get(module) ?? 0;
  registry.perModule.set(module, ordinal + 1);
  return { id: `${module}#${ordinal}`, ordinal };
}

let nestedCount = 0;

/** An id for a definition made inside a function: it takes no ordinal, so the module's top-level ids stay the same
 * in every process whatever ran here. */
export function nestedTaskId(moduleUrl: string | undefined): { id: string; ordinal: number } {
  return { id: `${moduleUrl ?? "anonymous"}#nested-${nestedCount++}`, ordinal: -1 };
}

export function registerTask(def: TaskDefinition): void {
  // Variants made with withOptions share the base id; the first definition is the one workers use.
  if (registry.byId.has(def.id)) return;
  registry.byId.set(def.id, def);
  const waiting = registry.waiters.get(def.id);
  if (waiting) {
    registry.waiters.delete(def.id);
    for (const resolve of waiting) resolve(def);
  }
}

export function lookupTask(id: string): TaskDefinition | undefined {
  return registry.byId.get(id);
}

/** Resolves once a task with this id is registered (a worker's import may still be evaluating). */
export function whenTaskRegistered(id: string): Promise<TaskDefinition> {
  const found = registry.byId.get(id);
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const list = registry.waiters.get(id) ?? [];
    list.push(resolve);
    registry.waiters.set(id, list);
  });
}

/**
 * On a worker, a module's top level called a flow: flows never run there, so a module that awaits the call stops at
 * it, and the tasks it defines below the call never exist on the worker. Noted so a task waited for can fail soon
 * with that reason instead of at the import bound.
 */
export function noteFlowCallOnWorker(moduleUrl: string, call: Omit<FlowCallOnWorker, "since">): void {
  const calls = (registry.flowCalls ??= new Map());
  if (!calls.has(moduleUrl)) calls.set(moduleUrl, { ...call, since: Date.now() });
}

export function flowCallOnWorker(moduleUrl: string): FlowCallOnWorker | undefined {
  return registry.flowCalls?.get(moduleUrl);
}
