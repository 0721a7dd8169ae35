/**
 * Counts a flow run's task runs on each display tick from the run's own counters (src/core/run-futures.ts): nothing
 * is added to the submit or settle path, and only the runs still open are looked at (for how many are running).
 */
import type { RunFutures } from "../run-futures.ts";
import { StateType } from "../state.ts";

export interface Counts {
  total: number;
  done: number;
  failed: number;
  running: number;
}

export class Tally {
  readonly #source: RunFutures;
  /** The source's counters when the current stretch of work began, and the runs then open (they carry over). */
  #base = { added: 0, completed: 0, notCompleted: 0, open: 0 };
  /** Since the last reset: the runs of one stretch of work. */
  readonly counts: Counts = { total: 0, done: 0, failed: 0, running: 0 };

  constructor(source: RunFutures) {
    this.#source = source;
  }

  /** Runs not yet final. */
  get open(): number {
    return this.#source.open.size;
  }

  /** Reads the counters and the open runs. */
  update(): Counts {
    const s = this.#source;
    let running = 0;
    for (const future of s.open) if (future.state.type === StateType.RUNNING) running++;
    Object.assign(this.counts, {
      total: this.#base.open + s.added - this.#base.added,
      done: s.completed - this.#base.completed,
      failed: s.notCompleted - this.#base.notCompleted,
      running,
    });
    return this.counts;
  }

  /** Starts counting a new stretch of work (the open runs carry over). */
  reset(): void {
    const s = this.#source;
    this.#base = { added: s.added, completed: s.completed, notCompleted: s.notCompleted, open: s.open.size };
    Object.assign(this.counts, { total: s.open.size, done: 0, failed: 0, running: 0 });
  }
}
