/**
 * A cheap cancellation flag. AbortControllers are costly to create and collect at tens of thousands of task runs
 * per second, so one is made only when someone reads the run's `signal` or an attempt has a timeout.
 */
export class Cancellation {
  #controller: AbortController | undefined;
  #listeners: Array<(reason: Error) => void> | undefined;
  reason: Error | undefined;

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  /** An AbortSignal for task code that wants one (`getRunContext().taskRun.signal`). */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.reason && !this.#controller.signal.aborted) this.#controller.abort(this.reason);
    return this.#controller.signal;
  }

  abort(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#listeners ?? [];
    this.#listeners = undefined;
    for (const listener of listeners) listener(reason);
  }

  /** Calls `listener` on abort (at once if already aborted); returns a function that removes it. */
  onAbort(listener: (reason: Error) => void): () => void {
    if (this.reason) {
      listener(this.reason);
      return () => {};
    }
    const listeners = (this.#listeners ??= []);
    listeners.push(listener);
    return () => {
      const i = listeners.indexOf(listener);
      if (i >= 0) listeners.splice(i, 1);
    };
  }
}
