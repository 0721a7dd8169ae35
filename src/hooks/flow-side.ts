/**
 * A remote runner's task hooks that only the flow process can fire: a run whose final state did not come from the
 * task engine on a worker (its worker or sidecar died, its sidecar was killed past its timeout, it was cancelled or
 * crashed before it ran, it timed out waiting for a concurrency slot). The engine's own final states fire their
 * hooks where the task ran.
 */
import type { RunScope } from "../core/context.ts";
import type { TaskSubmission } from "../core/task-runner.ts";
import { fireHooks } from "./fire.ts";
import { HOOK_NAMES } from "./types.ts";

export class FlowSideHooks {
  readonly #pending = new Set<Promise<void>>();

  /** Fires `s`'s hooks in the flow process when its final state arrives without `hooksRan`. */
  watch(s: TaskSubmission, run: { hooksRan?: boolean }, scope: () => RunScope): void {
    const options = s.task.options as Record<string, unknown>;
    if (!HOOK_NAMES.some((name) => options[name])) return; // no cost for tasks without hooks
    s.future.onFinal((state) => {
      if (run.hooksRan) return;
      const firing = fireHooks(s.task, s.taskRun, state, scope());
      if (!firing) return;
      this.#pending.add(firing);
      void firing.finally(() => this.#pending.delete(firing));
    });
  }

  /** Resolves when the hooks fired so far are done (the runner's shutdown waits: the flow run ends after them). */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }
}
