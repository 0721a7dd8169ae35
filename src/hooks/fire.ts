/**
 * Firing state hooks: a task's where its engine runs (the flow process, or the sidecar on Dask), a flow's in the
 * flow process. One function per owner kind, so every path that ends a run (the engine, a crash seen by the flow
 * process, a cache hit) fires them the same way. A hook that throws is logged as an ERROR naming it and changes
 * nothing else.
 */
import { type RunScope, currentScope, rootScope, runInScope, scopeLog } from "../core/context.ts";
import type { FlowRunInfo, TaskRunInfo } from "../core/run-info.ts";
import { type State, StateType, isNotReady } from "../core/state.ts";
import type { TaskDefinition } from "../core/task-definition.ts";
import type { HookName, HookedFlow, HookedTask, StateHook } from "./types.ts";

type AnyHook = StateHook<unknown, unknown>;
type HookOptions = Partial<Record<HookName, AnyHook | readonly AnyHook[]>>;

const BY_STATE: Partial<Record<StateType, HookName>> = {
  COMPLETED: "onCompletion",
  FAILED: "onFailure",
  CRASHED: "onCrashed",
  CANCELLED: "onCancellation",
  RUNNING: "onRunning",
};

/** The hooks `options` has for `state` (undefined for none: the engine's common path costs no await). */
export function hooksFor(options: object, state: State<unknown>): readonly AnyHook[] | undefined {
  if (isNotReady(state)) return undefined;
  const name = BY_STATE[state.type];
  const hooks = name && (options as HookOptions)[name];
  if (!hooks) return undefined;
  return typeof hooks === "function" ? [hooks] : hooks;
}

/** The task objects by definition (and by id, for a worker's copy of a definition), handed to hooks. */
const KEY = Symbol.for("daskflow.hookedTasks");
interface HookedTasks {
  byDef: WeakMap<object, HookedTask>;
  byId: Map<string, HookedTask>;
}
const g = globalThis as unknown as Record<symbol, HookedTasks | undefined>;
const tasks: HookedTasks = (g[KEY] ??= { byDef: new WeakMap<object, HookedTask>(), byId: new Map<string, HookedTask>() });

/** Called by task(): the object a task's hooks receive as their first argument. */
export function noteHookedTask(def: TaskDefinition, task: HookedTask): void {
  tasks.byDef.set(def, task);
  if (!tasks.byId.has(def.id)) tasks.byId.set(def.id, task);
}

async function runHooks(kind: string, hooks: readonly AnyHook[], owner: unknown, run: unknown, state: State<unknown>, scope: RunScope): Promise<void> {
  for (const [i, hook] of hooks.entries()) {
    try {
      await runInScope(scope, () => hook(owner, run, state));
    } catch (raw) {
      const error = raw instanceof Error ? raw : new Error(String(raw));
      const which = hook.name ? `'${hook.name}'` : `#${i + 1}`;
      scopeLog(scope, "error", `${kind} hook ${which} failed (the run's state stays ${state.name}): ${error.stack ?? `${error.name}: ${error.message}`}`);
    }
  }
}

/**
 * Fires the task's hooks for `state` in `scope` (default the current one; logs go to the task run); undefined when it
 * has none, else a promise that never rejects. The one entry for every path that ends a task run: the engine, a crash
 * seen by the flow process (flow-side.ts), a cache hit.
 */
export function fireHooks(def: TaskDefinition, run: TaskRunInfo, state: State<unknown>, scope: RunScope = currentScope() ?? rootScope()): Promise<void> | undefined {
  const hooks = hooksFor(def.options, state);
  if (!hooks) return undefined;
  const owner = tasks.byDef.get(def) ?? tasks.byId.get(def.id) ?? { taskName: def.name };
  return runHooks(BY_STATE[state.type]!, hooks, owner, run, state, scope.taskRun === run ? scope : { ...scope, taskRun: run });
}

/** Fires a flow's hooks for `state` (in the flow run's scope). */
export function fireFlowHooks(flow: HookedFlow, options: object, run: FlowRunInfo, state: State<unknown>, scope: RunScope): Promise<void> | undefined {
  const hooks = hooksFor(options, state);
  return hooks && runHooks(BY_STATE[state.type]!, hooks, flow, run, state, scope);
}

/** Options without their hooks (functions do not travel in a task's spec: a worker takes them from the module). */
export function withoutHooks<T extends object>(options: T): T {
  if (!Object.values(BY_STATE).some((name) => name in options)) return options;
  const copy = { ...options } as Record<string, unknown>;
  for (const name of Object.values(BY_STATE)) delete copy[name];
  return copy as T;
}

/** The hooks of `options` alone (what a worker's copy of a definition keeps from its module's). */
export function onlyHooks(options: object): HookOptions {
  const out: HookOptions = {};
  for (const name of Object.values(BY_STATE)) {
    const hook = (options as HookOptions)[name];
    if (hook) out[name] = hook;
  }
  return out;
}
