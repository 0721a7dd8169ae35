/**
 * Where the recorder's batches go: the store, opened on the first write. Written in this thread: a worker thread
 * that owned the store was tried and measured worse (copying each batch to it cost more CPU than the writes it
 * took off this thread, and a 2-core machine has no idle core to run it on: +35% CPU for 50,000 in-process task runs).
 */
import { openHistory } from "./index.ts";
import type { WriteBatch } from "./sql-store.ts";

export interface HistoryWriter {
  write(batch: WriteBatch): Promise<void>;
  prune(before: number): Promise<void>;
}

export function openWriter(url: string | undefined): HistoryWriter {
  const store = openHistory(url === undefined ? {} : { url });
  store.catch(() => {}); // reported by the first write
  return {
    write: async (batch) => (await store).write(batch),
    prune: async (before) => void (await (await store).prune(before)),
  };
}
