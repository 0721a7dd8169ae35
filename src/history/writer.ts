/**
 * Where the recorder's batches go: a worker thread that owns the store (writer-thread.ts), or, where a worker
 * cannot start, the store in this thread. The thread keeps the process alive only while a write is in flight, so
 * a script ends when its flows have ended and their history is written.
 */
import { Worker } from "node:worker_threads";
import { openHistory } from "./index.ts";
import type { WriteBatch } from "./sql-store.ts";

export interface HistoryWriter {
  write(batch: WriteBatch): Promise<void>;
  prune(before: number): Promise<void>;
}

/** This module's extension (".ts" from sources, ".js" built): the thread's entry has the same. */
const extension = /(\.ts|\.js)$/.exec(new URL(import.meta.url).pathname)?.[0] ?? ".js";

export function openWriter(url: string | undefined): HistoryWriter {
  try {
    return new ThreadWriter(url);
  } catch {
    const store = openHistory(url === undefined ? {} : { url });
    return { write: async (batch) => (await store).write(batch), prune: async (before) => void (await (await store).prune(before)) };
  }
}

class ThreadWriter implements HistoryWriter {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #next = 0;

  constructor(url: string | undefined) {
    this.#worker = new Worker(new URL(`./writer-thread${extension}`, import.meta.url), { workerData: { url } });
    this.#worker.unref();
    this.#worker.on("message", (m: { id: number; error?: string }) => {
      const waiting = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (m.error === undefined) waiting?.resolve();
      else waiting?.reject(new Error(m.error));
    });
    this.#worker.on("error", (error) => this.#failAll(error));
    this.#worker.on("exit", (code) => this.#failAll(new Error(`the history writer thread exited (code ${code})`)));
  }

  #failAll(error: Error): void {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }

  #send(message: { batch?: WriteBatch; prune?: number }): Promise<void> {
    const id = this.#next++;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref(); // a write in flight keeps the process alive until it is done
      this.#worker.postMessage({ id, ...message });
    });
  }

  write(batch: WriteBatch): Promise<void> {
    return this.#send({ batch });
  }

  prune(before: number): Promise<void> {
    return this.#send({ prune: before });
  }
}
