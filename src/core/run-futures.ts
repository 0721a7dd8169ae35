/**
 * The task runs a flow run (or a task that submits tasks) made: held while they are open, let go once final. The
 * run waits for its open ones before it ends, its progress display counts them, and a failed run lists the ones that
 * failed; none of that needs a finished future. Holding every future until the run ends would also hold what each
 * can fetch: on Dask, the task results the cluster keeps for them (src/dask/task-lifetimes.ts releases a result once
 * nothing can ask for it any more, and a future the flow's code dropped is such a thing).
 */
import type { TaskFuture } from "./future.ts";
import { type State, StateType } from "./state.ts";

/** A task run that ended FAILED or CRASHED, as a failed flow's final state lists it. */
export interface FailedRun {
  taskRunId: string;
  taskRunName: string;
  state: State<unknown>;
}

export class RunFutures {
  readonly #open = new Set<TaskFuture<unknown>>();
  readonly #failures: FailedRun[] = [];
  /** Runs added since the run began, and of those the ones final: COMPLETED, or any other final state. */
  added = 0;
  completed = 0;
  notCompleted = 0;

  add(future: TaskFuture<unknown>): void {
    this.added++;
    this.#open.add(future);
    future.onFinal((state) => this.#finished(future, state)); // at once when it is final already
  }

  /** The runs not final yet. */
  get open(): ReadonlySet<TaskFuture<unknown>> {
    return this.#open;
  }

  /** The runs that ended FAILED or CRASHED, in the order they ended. */
  get failures(): readonly FailedRun[] {
    return this.#failures;
  }

  /** Resolves once no run is open (runs added meanwhile are waited for too). */
  async settled(): Promise<void> {
    while (this.#open.size > 0) await Promise.all([...this.#open].map((f) => new Promise((resolve) => f.onFinal(resolve))));
  }

  #finished(future: TaskFuture<unknown>, state: State<unknown>): void {
    this.#open.delete(future);
    if (state.type === StateType.COMPLETED) {
      this.completed++;
      return;
    }
    this.notCompleted++;
    if (state.type === StateType.FAILED || state.type === StateType.CRASHED) {
      this.#failures.push({ taskRunId: future.taskRunId, taskRunName: future.taskRunName, state });
    }
  }
}
