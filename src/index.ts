/** Public API of "daskflow". */
export { version } from "./version.ts";
export { task, type Task, type TaskCall } from "./core/task.ts";
export { flow, type Flow } from "./core/flow.ts";
export { TaskFuture, type ResultOptions } from "./core/future.ts";
export { wait, asCompleted, type DoneAndNotDone } from "./core/collections.ts";
export { unmapped, allowFailure, type Unmapped, type AllowFailure } from "./core/wrappers.ts";
export { getRunLogger, getRunContext, type RunContext, type FlowRunInfo, type TaskRunInfo, type DaskWorkerInfo } from "./core/context.ts";
export type { RunLogger, LogLevel } from "./core/logger.ts";
export { StateType, type State, isFinal, isNotReady, formatState } from "./core/state.ts";
export type { TaskOptions, FlowOptions, CallOptions } from "./core/options.ts";
export type { CachePolicy, CacheKeyContext } from "./core/task-definition.ts";
export type { Futurable, FuturableArgs, MapArgs } from "./core/types.ts";
export {
  DaskflowError,
  InvalidOptionError,
  MissingContextError,
  TaskTimeoutError,
  WaitTimeoutError,
  CancelledRunError,
  CrashedRunError,
  UpstreamTaskError,
  SerializationError,
  RemoteError,
} from "./core/errors.ts";
export { FlowRunError } from "./core/state.ts";
export { ConcurrentTaskRunner, type ConcurrentTaskRunnerOptions } from "./runners/concurrent.ts";
export { concurrency, type ConcurrencyOptions } from "./limits/concurrency.ts";
export type { ConcurrencyLimit, ConcurrencyLimits, ConcurrencyLimitSpec, LimitScope } from "./limits/options.ts";
export type { StateHook, HookList, HookedTask, HookedFlow, TaskHookOptions, FlowHookOptions } from "./hooks/types.ts";
export type { TaskRunner, TaskSubmission, Annotations } from "./core/task-runner.ts";
export { history, openHistory, type HistoryStore } from "./history/index.ts";
export type { FlowRunRecord, TaskRunRecord, StateRecord as HistoryStateRecord, LogRecordRow, Page, FlowRunQuery, TaskRunQuery, LogQuery, Timeline } from "./history/types.ts";
