/**
 * The runner a task on a worker submits to (and its getDaskClient() uses): a DaskTaskRunner on that worker's
 * scheduler whose bridge is the sidecar's channel to its own worker (worker-bridge.ts). Made only when the task
 * actually submits or asks for a client: most never do. One per task run, shut down when the run ends.
 */
import type { TaskFuture } from "../core/future.ts";
import type { TaskRunner, TaskSubmission } from "../core/task-runner.ts";
import type { SidecarMessage } from "../dask/protocol.ts";
import { DaskTaskRunner } from "../dask/runner.ts";
import { WorkerBridge } from "./worker-bridge.ts";
import { CONCURRENCY_SLOTS, type ConcurrencySlots } from "../limits/slots.ts";

export class NestedRunner implements TaskRunner {
  readonly name = "DaskTaskRunner";
  #inner: DaskTaskRunner | undefined;

  constructor(
    readonly schedulerAddress: string,
    private readonly send: (message: SidecarMessage) => void,
  ) {}

  get crashed(): Error | undefined {
    return this.#inner?.crashed;
  }

  /** @internal The DaskTaskRunner behind it (getDaskClient() in a task uses it too). */
  daskRunner(): DaskTaskRunner {
    this.#inner ??= new DaskTaskRunner({ address: this.schedulerAddress }, { transport: (handlers) => new WorkerBridge(this.send, handlers) });
    return this.#inner;
  }

  /** concurrency() in a task on Dask: leases through this worker's session, on the run's semaphores. */
  [CONCURRENCY_SLOTS](): ConcurrencySlots {
    return this.daskRunner()[CONCURRENCY_SLOTS]();
  }

  submit(submission: TaskSubmission): void {
    this.daskRunner().submit(submission);
  }

  submitBatch(submissions: readonly TaskSubmission[]): void {
    this.daskRunner().submitBatch(submissions);
  }

  cancel(future: TaskFuture<unknown>): boolean {
    return this.#inner?.cancel(future) ?? false;
  }

  async shutdown(): Promise<void> {
    await this.#inner?.shutdown();
  }

  duplicate(): TaskRunner {
    return new NestedRunner(this.schedulerAddress, this.send);
  }

  equals(other: unknown): boolean {
    return other instanceof NestedRunner && other.schedulerAddress === this.schedulerAddress;
  }
}
