/**
 * Which task results the cluster still has to hold for this flow run. A Dask key is held by the bridge until it is
 * released; holding every result until the run ends keeps all of a flow's values in the workers' memory (a flow
 * that moves a thousand 50 MB files would hold 50 GB). So a key is released as soon as the flow process has every
 * final state and value of its runs (they came inline with the final state events, or were fetched): results stay
 * on the cluster only while something may still fetch them. Dask keeps a released key for dependents already
 * submitted. A later submit that takes such a future as an argument puts the value back first (`restore`: the
 * envelopes the flow process holds, scattered under a new key), so nothing the user can do needs the old key.
 *
 * Fetched (large) results are released at once. Results that came inline (at most 16 KiB each) are released in
 * bulk once no new one came for a moment (or many are waiting): releasing costs the scheduler work per key, which
 * a stream of small tasks would otherwise pay while it runs, for little memory.
 */
import { encodeValueParts, type Envelope } from "../core/serialization.ts";
import type { ValueBytes } from "../transfer/value-bytes.ts";

export interface HeldTask {
  key: string;
  batch: boolean;
  /** Every run final (the runner says). */
  final: () => boolean;
  /** The runs' envelopes as the flow process has them, once it has all of them. */
  local?: Envelope[];
  /** The envelopes came inline with the final states (small): released lazily. */
  inline?: boolean;
  released?: boolean;
  /** The key its value was put back under, while a submit that needs it is on its way. */
  restoredAs?: string;
}

export interface ReleaseHooks {
  /** The keys that tasks not yet sent to the bridge depend on. */
  needed: () => ReadonlySet<string>;
  release: (keys: string[]) => void;
  /** Puts `data` on the cluster under `key`. */
  restore: (key: string, data: ValueBytes) => Promise<void>;
  /** A restore finished: tasks waiting for it can be sent. */
  restored: () => void;
  failed: (error: Error) => void;
}

/** Inline results wait for this quiet time, or until this many wait, before they are released together. */
const LAZY_QUIET_MS = 1000;
const LAZY_MAX = 4096;

export class HeldResults {
  #pending = new Set<string>();
  #scheduled = false;
  #lazy = new Set<string>();
  #lazyTimer: NodeJS.Timeout | undefined;
  /** Keys being restored: a task that depends on one is not sent before it is there. */
  readonly restoring = new Set<string>();
  #restores: Promise<void>[] = [];
  #n = 0;

  constructor(private readonly hooks: ReleaseHooks) {}

  /** The flow process now has `envelopes` for all of `task`'s runs (`inline`: they came with the final states). */
  haveLocally(task: HeldTask, envelopes: Envelope[], inline: boolean): void {
    if (!task.local) {
      task.local = envelopes;
      task.inline = inline;
    }
    this.offer(task);
  }

  /** Releases `task`'s key once its runs are final and their envelopes are here. */
  offer(task: HeldTask): void {
    if (task.released || !task.local || !task.final()) return;
    task.released = true;
    if (task.inline) this.#releaseLater(task.key);
    else this.#releaseSoon(task.key);
  }

  /** Nothing in the flow process can ask for `key`'s value any more (task-lifetimes.ts): it is released. */
  unreachable(key: string): void {
    this.#releaseSoon(key);
  }

  /** The key a new submit should depend on for `task`: its own, or the key its value was put back under. */
  keyFor(task: HeldTask): string {
    if (!task.released) return task.key;
    if (task.restoredAs) return task.restoredAs;
    const key = `${task.key}-restored-${++this.#n}`;
    task.restoredAs = key;
    this.restoring.add(key);
    const data = encodeValueParts(task.batch ? { items: task.local } : task.local![0], "a result put back on the cluster");
    const done = this.hooks.restore(key, data).then(
      () => {
        this.restoring.delete(key);
        this.hooks.restored();
        // Held only until the submits that need it are sent; a later one puts the value back again.
        if (task.restoredAs === key) delete task.restoredAs;
        this.#releaseSoon(key);
      },
      (error: Error) => this.hooks.failed(error),
    );
    this.#restores.push(done);
    return key;
  }

  /** Waits for the restores under way. */
  async settled(): Promise<void> {
    while (this.#restores.length) {
      const now = this.#restores;
      this.#restores = [];
      await Promise.all(now);
    }
  }

  /** Sends the releases that no task still waiting to be sent refers to (the runner calls it after sending). */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.size === 0) return;
    const needed = this.hooks.needed();
    const keys = [...this.#pending].filter((k) => !needed.has(k));
    for (const k of keys) this.#pending.delete(k);
    if (keys.length) this.hooks.release(keys);
  }

  #releaseLater(key: string): void {
    this.#lazy.add(key);
    clearTimeout(this.#lazyTimer);
    const move = () => {
      for (const k of this.#lazy) this.#pending.add(k);
      this.#lazy.clear();
      this.flush();
    };
    if (this.#lazy.size >= LAZY_MAX) return move();
    this.#lazyTimer = setTimeout(move, LAZY_QUIET_MS);
    this.#lazyTimer.unref();
  }

  /** Stops the lazy timer (the run is over: closing the client releases everything). */
  stop(): void {
    clearTimeout(this.#lazyTimer);
    this.#lazy.clear();
  }

  #releaseSoon(key: string): void {
    this.#pending.add(key);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }
}
