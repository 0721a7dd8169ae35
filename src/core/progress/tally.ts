/**
 * Counts a flow run's task runs by reading its set of futures on each display tick: nothing is added to the
 * submit or settle path. New futures are taken from a live iterator over the set (a Set iterator sees entries added
 * after it was made), and only runs still open are looked at again.
 */
import type { TaskFuture } from "../future.ts";
import { StateType, isFinal } from "../state.ts";

export interface Counts {
  total: number;
  done: number;
  failed: number;
  running: number;
}

export class Tally {
  readonly #source: Set<TaskFuture<unknown>>;
  #iterator: Iterator<TaskFuture<unknown>>;
  #seen = 0;
  #open: TaskFuture<unknown>[] = [];
  /** Since the last reset: the runs of one stretch of work. */
  readonly counts: Counts = { total: 0, done: 0, failed: 0, running: 0 };

  constructor(source: Set<TaskFuture<unknown>>) {
    this.#source = source;
    this.#iterator = source.values();
  }

  /** Runs not yet final. */
  get open(): number {
    return this.#open.length;
  }

  /** Takes in the futures added since the last call and re-reads the open ones. */
  update(): Counts {
    this.#ingest();
    let running = 0;
    let kept = 0;
    for (const future of this.#open) {
      const state = future.state;
      if (isFinal(state)) {
        if (state.type === StateType.COMPLETED) this.counts.done++;
        else this.counts.failed++;
      } else {
        if (state.type === StateType.RUNNING) running++;
        this.#open[kept++] = future;
      }
    }
    this.#open.length = kept;
    this.counts.running = running;
    return this.counts;
  }

  /** Starts counting a new stretch of work (the open runs carry over). */
  reset(): void {
    Object.assign(this.counts, { total: this.#open.length, done: 0, failed: 0, running: 0 });
  }

  #ingest(): void {
    while (this.#seen < this.#source.size) {
      const next = this.#iterator.next();
      if (next.done) {
        // Entries were deleted from the set (the flow never does): count only what is added from now on.
        this.#iterator = this.#source.values();
        for (let i = 0; i < this.#source.size; i++) this.#iterator.next();
        this.#seen = this.#source.size;
        return;
      }
      this.#seen++;
      this.counts.total++;
      this.#open.push(next.value);
    }
  }
}
