/**
 * The run history's tap into the engine: one nullable observer that the flow process sets (src/history/recorder.ts)
 * and that the engine calls at a few points (a flow run starts and ends, a task run is submitted or changes state,
 * a Dask worker says where it ran). Sidecars never set it. Structural types only: the engine's modules import this
 * one, so it imports none of theirs.
 */
import type { LogSink } from "./logger.ts";
import type { FlowRunInfo } from "./run-info.ts";
import type { State } from "./state.ts";

/** A task run's future, as the observer sees it. */
export interface ObservedRun {
  readonly taskRunId: string;
  readonly taskRunName: string;
  readonly daskKey: string | undefined;
}

export interface ObservedSubmission {
  readonly args: readonly unknown[];
  readonly waitFor: readonly unknown[];
  readonly taskRun: { readonly id: string; readonly name: string; readonly taskName: string };
  readonly flowRun: { readonly id: string } | undefined;
  readonly future: ObservedRun;
}

export interface RunObserver {
  flowStarted(flowRun: FlowRunInfo, runner: { readonly name: string }, parent: { flowRunId?: string; taskRunId?: string }): void;
  /** Resolves once the run's final state is written (or given up on): before `flow()` resolves. */
  flowEnded(flowRun: FlowRunInfo, state: State<unknown>, runner: object): Promise<void>;
  taskSubmitted(submission: ObservedSubmission): void;
  taskState(run: ObservedRun, state: State<unknown>): void;
  /** A Dask worker ran it; `started` is when its attempt began there (epoch ms), `attempts` how many it made. */
  taskWorker(run: ObservedRun, worker: string, started?: number, attempts?: number): void;
  /** The flow run's log sink, with its records also recorded. */
  recordLogs(sink: LogSink): LogSink;
}

/** Set in the flow process while the history records; undefined otherwise (and always in sidecars). */
export const observing: { observer?: RunObserver | undefined } = {};

/** Whether DASKFLOW_HISTORY turns recording off ("off", "0", "false", "no"). */
export function historyOff(): boolean {
  return /^(off|0|false|no)$/i.test(process.env.DASKFLOW_HISTORY?.trim() ?? "");
}
