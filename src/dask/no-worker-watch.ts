/**
 * The bound on a run that no worker can take. Dask keeps a task whose restrictions no worker meets (resources it
 * asks for, `workers` it is pinned to, or a cluster with no workers) in its `no-worker` state for ever and sends
 * nothing. A busy cluster's queued tasks are fine: they will run. So while some Dask tasks have reported nothing,
 * the scheduler is asked for their states now and then, and one still `no-worker` after the bound is given up.
 */
import type { DaskAnnotations, SubmitTask, WorkerInfo } from "./protocol.ts";

/** How often the scheduler is asked, at most (less often than the bound allows for). */
const CHECK_MS = 10_000;
/** Keys asked about per check: the oldest first. */
const MAX_KEYS = 2_000;

export class NoWorkerWatch {
  /** Key -> when the scheduler first said `no-worker` for it. */
  readonly #since = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  /**
   * `silent()`: keys of the Dask tasks none of whose runs has reported yet; `ask(keys)`: their scheduler states;
   * `stuck(key, seconds)`: give one up (called once per key).
   */
  constructor(
    private readonly boundSeconds: number,
    private readonly silent: () => string[],
    private readonly ask: (keys: string[]) => Promise<Record<string, string | null>>,
    private readonly stuck: (key: string, seconds: number) => void,
  ) {}

  /** Called at each submit: starts the checks when they are off (the timer never keeps the process alive). */
  arm(): void {
    if (this.#timer || !(this.boundSeconds > 0)) return;
    this.#timer = setInterval(() => void this.#check(), Math.min(CHECK_MS, (this.boundSeconds * 1000) / 2));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#since.clear();
  }

  async #check(): Promise<void> {
    if (this.#checking) return;
    const keys = this.silent().slice(0, MAX_KEYS);
    if (keys.length === 0) return this.stop();
    this.#checking = true;
    try {
      const states = await this.ask(keys);
      const now = Date.now();
      const seen = new Set(keys);
      for (const key of this.#since.keys()) if (!seen.has(key)) this.#since.delete(key);
      for (const key of keys) {
        if (states[key] !== "no-worker") {
          this.#since.delete(key);
          continue;
        }
        const since = this.#since.get(key) ?? now;
        this.#since.set(key, since);
        if (now - since >= this.boundSeconds * 1000) {
          this.#since.delete(key);
          this.stuck(key, Math.round((now - since) / 1000));
        }
      }
    } catch {
      this.stop(); // a peer that cannot tell (a task's session on its worker, a closing bridge): best effort
    } finally {
      this.#checking = false;
    }
  }
}

/** Why a run ended CRASHED: no worker took it within the bound. */
export function noWorkerMessage(runName: string, seconds: number, where: string, annotations: DaskAnnotations, bound: number): string {
  const { resources, workers } = annotations;
  const asks = [resources && `resources ${JSON.stringify(resources)}`, workers?.length && `workers ${workers.join(", ")}`].filter(Boolean).join(" and ");
  return (
    `Task run '${runName}' waited ${seconds}s for a Dask worker that can run it: no worker of ${where} ${asks ? `offers ${asks}` : "took it (the cluster has no workers)"}. ` +
    `It was cancelled. Add such a worker, or raise the DaskTaskRunner's noWorkerTimeoutSeconds (${bound}) for a cluster that scales up slowly.`
  );
}

/** A warning for each of `wanted` (resource names `task` asks for) that no worker of `workers` offers enough of. */
export function missingResources(task: SubmitTask, wanted: readonly string[], workers: readonly WorkerInfo[]): string[] {
  const asked = task.annotations.resources ?? {};
  const offered = [...new Set(workers.flatMap((w) => Object.keys(w.resources)))];
  return wanted
    .filter((resource) => !workers.some((w) => (w.resources[resource] ?? 0) >= (asked[resource] ?? 0)))
    .map(
      (resource) =>
        `No worker of the Dask cluster offers the resource '${resource}' (${asked[resource]} wanted by task run '${task.meta.task_run_name}'); ` +
        `such tasks wait until a worker with it joins (at most noWorkerTimeoutSeconds, then they end CRASHED). Workers offer: ${offered.length ? offered.join(", ") : "no resources"}. ` +
        `Give workers resources with clusterKwargs: { resources: { ${resource}: 1 } } or \`dask worker --resources "${resource}=1"\`.`,
    );
}
