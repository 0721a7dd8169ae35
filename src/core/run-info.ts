/**
 * What a flow run and a task run are, as runners and the run context see them. Below both (context.ts and
 * task-runner.ts import it), so the runner contract does not import the context that holds a runner.
 */
import type { Cancellation } from "./cancellation.ts";

export interface FlowRunInfo {
  readonly id: string;
  readonly name: string;
  readonly flowName: string;
  readonly parameters: readonly unknown[];
  /** The flow run this one resumes (`myFlow.resume(id)`, DASKFLOW_RESUME). */
  readonly resumedFrom?: string;
}

export class TaskRunInfo {
  /** 1 on the first attempt, 2 on the first retry, ... */
  runCount = 0;
  /** @internal Set by the engine for the current attempt. */
  cancellation: Cancellation | undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly taskName: string,
    readonly tags: readonly string[],
  ) {}

  /** Aborted when the run is cancelled or its attempt times out; cooperative tasks can stop early. */
  get signal(): AbortSignal | undefined {
    return this.cancellation?.signal;
  }
}
