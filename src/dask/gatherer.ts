/**
 * Results fetched from the cluster: the keys asked for in one turn of the event loop go to the bridge in one
 * `gather`, each waiter getting its own key's bytes.
 */
type Waiter = { resolve: (bytes: Uint8Array) => void; reject: (error: Error) => void };

export class Gatherer {
  #waiting = new Map<string, Waiter[]>();
  #scheduled = false;

  constructor(private readonly request: (keys: string[]) => Promise<Uint8Array[]>) {}

  gather(key: string): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const list = this.#waiting.get(key) ?? [];
      list.push({ resolve, reject });
      this.#waiting.set(key, list);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  /** The cluster is gone: every waiting fetch fails with `error`. */
  rejectAll(error: Error): void {
    for (const waiters of this.#waiting.values()) for (const w of waiters) w.reject(error);
    this.#waiting.clear();
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#waiting;
    this.#waiting = new Map();
    const keys = [...batch.keys()];
    try {
      const values = await this.request(keys);
      keys.forEach((k, i) => batch.get(k)!.forEach((w) => w.resolve(values[i]!)));
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(error as Error);
    }
  }
}
