/**
 * The runner a task on a worker submits to: a DaskTaskRunner on that worker's scheduler, made only when the task
 * actually submits (most never do, and a runner per run would cost every task).
 */
import type { TaskFuture } from "../core/future.ts";
import type { TaskRunner, TaskSubmission } from "../runners/task-runner.ts";
import { DaskTaskRunner } from "../dask/runner.ts";

export class NestedRunner implements TaskRunner {
  readonly name = "DaskTaskRunner";
  #inner: DaskTaskRunner | undefined;

  /** `onFirstSubmit`: the task is about to wait on tasks of its own (the worker then frees its thread slot). */
  constructor(
    readonly schedulerAddress: string,
    private readonly onFirstSubmit?: () => void,
  ) {}

  get crashed(): Error | undefined {
    return this.#inner?.crashed;
  }

  #runner(): DaskTaskRunner {
    if (!this.#inner) {
      this.onFirstSubmit?.();
      this.#inner = new DaskTaskRunner({ address: this.schedulerAddress });
    }
    return this.#inner;
  }

  submit(submission: TaskSubmission): void {
    this.#runner().submit(submission);
  }

  cancel(future: TaskFuture<unknown>): boolean {
    return this.#inner?.cancel(future) ?? false;
  }

  async shutdown(): Promise<void> {
    await this.#inner?.shutdown();
  }

  duplicate(): TaskRunner {
    return new DaskTaskRunner({ address: this.schedulerAddress });
  }

  equals(other: unknown): boolean {
    return other instanceof NestedRunner && other.schedulerAddress === this.schedulerAddress;
  }
}
