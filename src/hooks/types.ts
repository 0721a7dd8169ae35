/**
 * State hook types, kept apart from their firing (src/hooks/fire.ts) so the option types below the engine
 * (task-definition.ts, options.ts) can name them without importing anything that runs.
 */
import type { FlowRunInfo, TaskRunInfo } from "../core/run-info.ts";
import type { State } from "../core/state.ts";

/** A hook: called with the task (or flow), its run and the state reached. What it returns is awaited. */
export type StateHook<Owner, Run> = (owner: Owner, run: Run, state: State<unknown>) => void | Promise<void>;
/** One hook or a list of them (run one after another, in order). */
export type HookList<Owner, Run> = StateHook<Owner, Run> | readonly StateHook<Owner, Run>[];

/** What a task hook receives as its first argument: the task (as `task(...)` returned it). */
export interface HookedTask {
  readonly taskName: string;
}
/** What a flow hook receives as its first argument: the flow. */
export interface HookedFlow {
  readonly flowName: string;
}

export interface TaskHookOptions {
  /** When the run ends COMPLETED (a cache hit too). */
  onCompletion?: HookList<HookedTask, TaskRunInfo>;
  /** When the run ends FAILED, after its retries are used up. */
  onFailure?: HookList<HookedTask, TaskRunInfo>;
  /** When the run ends CRASHED (on Dask: in the flow process when its worker died). */
  onCrashed?: HookList<HookedTask, TaskRunInfo>;
  /** When the run ends CANCELLED. */
  onCancellation?: HookList<HookedTask, TaskRunInfo>;
  /** At the start of each attempt. */
  onRunning?: HookList<HookedTask, TaskRunInfo>;
}

export interface FlowHookOptions {
  onCompletion?: HookList<HookedFlow, FlowRunInfo>;
  onFailure?: HookList<HookedFlow, FlowRunInfo>;
  onCrashed?: HookList<HookedFlow, FlowRunInfo>;
  onCancellation?: HookList<HookedFlow, FlowRunInfo>;
  onRunning?: HookList<HookedFlow, FlowRunInfo>;
}

export const HOOK_NAMES = ["onCompletion", "onFailure", "onCrashed", "onCancellation", "onRunning"] as const;
export type HookName = (typeof HOOK_NAMES)[number];
