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
  /** Runs waiting for a concurrency slot, by what they wait for ("tag 'db'"); empty for none. */
  waiting: Map<string, number>;
}

/** The state a run waiting for a concurrency slot is in (src/limits/, the bridge's python/daskflow_bridge/limits/). */
const AWAITING_SLOT = "AwaitingConcurrencySlot";

export class Tally {
  readonly #source: RunFutures;
  /** The source's counters when the current stretch of work began, and the runs then open (they carry over). */
  #base = { added: 0, completed: 0, notCompleted: 0, open: 0 };
  /** Since the last reset: the runs of one stretch of work. */
  readonly counts: Counts = { total: 0, done: 0, failed: 0, running: 0, waiting: new Map() };

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
    const waiting = new Map<string, number>();
    for (const { state } of s.open) {
      if (state.type === StateType.RUNNING) running++;
      else if (state.name === AWAITING_SLOT) {
        const what = (state.message ?? "a slot").replace(/^Waiting for a slot of /, "");
        waiting.set(what, (waiting.get(what) ?? 0) + 1);
      }
    }
    Object.assign(this.counts, {
      total: this.#base.open + s.added - this.#base.added,
      done: s.completed - this.#base.completed,
      failed: s.notCompleted - this.#base.notCompleted,
      running,
      waiting,
    });
    return this.counts;
  }

  /** Starts counting a new stretch of work (the open runs carry over). */
  reset(): void {
    const s = this.#source;
    this.#base = { added: s.added, completed: s.completed, notCompleted: s.notCompleted, open: s.open.size };
    Object.assign(this.counts, { total: s.open.size, done: 0, failed: 0, running: 0, waiting: new Map() });
  }
}
