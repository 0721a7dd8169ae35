/**
 * The TaskRunner interface: what the core hands a runner for each `submit`. It carries everything a remote runner
 * needs: the task definition, call arguments with futures still inside (so a remote runner can turn them into
 * dependencies), `waitFor`, and the ambient annotations.
 */
import type { FlowRunInfo, TaskRunInfo } from "./run-info.ts";
import type { FutureOwner, TaskFuture } from "./future.ts";
import type { TaskDefinition } from "./task-definition.ts";
import type { PersistSpec } from "../results/storage.ts";

/** Dask annotations applied with `annotate(...)`; other runners ignore them. */
export interface Annotations {
  resources?: Record<string, number>;
  priority?: number;
  retries?: number;
  workers?: string | readonly string[];
  allowOtherWorkers?: boolean;
}

export interface TaskSubmission<R = unknown> {
  readonly task: TaskDefinition;
  /** Call arguments as given: futures (and allowFailure wrappers) may sit at any depth. */
  readonly args: readonly unknown[];
  readonly waitFor: readonly unknown[];
  readonly annotations: Annotations;
  readonly taskRun: TaskRunInfo;
  readonly flowRun: FlowRunInfo | undefined;
  /** The future handed to the user; the runner reports state transitions to it. */
  readonly future: TaskFuture<R>;
  /** Where the worker that computes it writes its result (src/results/); runners that run tasks elsewhere pass it on. */
  readonly persist?: PersistSpec;
}

export interface TaskRunner extends FutureOwner {
  /** Shown in logs, e.g. "ConcurrentTaskRunner". */
  readonly name: string;
  /** Takes a submission and returns at once; may throw synchronously for input it can never run. */
  submit(submission: TaskSubmission): void;
  /**
   * Optional: runs several submissions of one task as one unit of work (`map` with `batchSize`), while each keeps
   * its own future, state, retries and failure.
   */
  submitBatch?(submissions: readonly TaskSubmission[]): void;
  /** Called once when the flow run ends, after its futures are final. Frees what the runner started. */
  shutdown(): Promise<void>;
  /** A fresh runner with the same options: each flow run gets its own. */
  duplicate(): TaskRunner;
  equals(other: unknown): boolean;
  /**
   * Optional: what shutting this runner down ends, for the line printed when the flow process is interrupted,
   * e.g. "the temporary Dask cluster (distributed.LocalCluster at tcp://127.0.0.1:40123)"; undefined for nothing.
   */
  describeTeardown?(): string | undefined;
  /** Set when the runner's infrastructure failed (a bridge or cluster died): the flow run ends CRASHED. */
  readonly crashed?: Error | undefined;
}
