/**
 * How long the cluster holds a task result nobody fetched: while something in this process can still ask for it. A
 * Dask key is held by the bridge until it is released (results-held.ts releases the ones whose values the flow
 * process has). A result only tasks consumed, say a 100 MiB value passed from one task to the next, is held for as
 * long as its future, or its COMPLETED state, can be reached: Python's Dask releases a key when its last Future is
 * dropped, and so does daskflow, once the flow's code dropped every future and state of the run. Until then the
 * result stays on its worker, and a copy on each worker that ran a dependent (Dask drops extra copies only later).
 *
 * The runner lets go of a Dask task once all its runs are final (runner.ts `#retire`); from then on only the user's
 * futures and states reach it, and this registry hears when those were collected. V8 collects when it needs memory,
 * and the flow process may need none while gigabytes wait on the cluster: so once results of COLLECT_AFTER_BYTES or
 * more were retired unfetched, or some were and the runner has nothing running (a flow that passes one large value
 * at a time along a chain), the flow process collects at once, for at most a tenth of its time (spacing below).
 */
import { collectGarbage } from "../transfer/collect-garbage.ts";

/** Unfetched results of this many bytes retired since the last collection make the flow process collect. */
const COLLECT_AFTER_BYTES = 64 * 2 ** 20;
/** After a collection that took d ms, the next one waits at least this many times d. */
const COLLECT_SPACING = 10;

export class TaskLifetimes {
  readonly #registry: FinalizationRegistry<string>;
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #notBefore = 0;
  #stopped = false;

  /** `unreachable(key)`: nothing in this process can ask for the result under `key` any more. */
  constructor(unreachable: (key: string) => void) {
    this.#registry = new FinalizationRegistry(unreachable); // after the run, the runner sends no release
  }

  /** The runner let go of `handle`, the Dask task under `key` whose result (`bytes`) stays on the cluster. */
  watch(handle: object, key: string, bytes: number): void {
    this.#registry.register(handle, key);
    this.#bytes += bytes;
    if (this.#bytes >= COLLECT_AFTER_BYTES) this.#schedule();
  }

  /** The runner has no task running: the results retired since the last collection are looked for now. */
  idle(): void {
    if (this.#bytes > 0) this.#schedule();
  }

  /** The run is over (closing the client releases every key): no more collections. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return;
    // After the current turn: the code that dropped a future has moved on by then.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#bytes = 0;
      const start = performance.now();
      collectGarbage();
      const end = performance.now();
      this.#notBefore = end + (end - start) * COLLECT_SPACING;
    }, Math.max(0, this.#notBefore - performance.now()));
    this.#timer.unref();
  }
}
