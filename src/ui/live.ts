/**
 * Live updates for run pages as server-sent events. While at least one page listens to a flow run, the store is
 * read every `pollMs` for what changed (task runs by `updatedSince`, logs by `afterId`, the run itself); with no
 * listener nothing is read. Events: `run` (the flow run), `tasks` (changed task runs), `logs` (new lines).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LogRecordRow, TaskRunRecord } from "../history/types.ts";
import type { HistoryReader } from "./reader.ts";

/** Records written in one batch may carry times a little before the newest seen: read back this far. */
const SLACK_MS = 2000;

interface Watch {
  clients: Set<ServerResponse>;
  timer?: NodeJS.Timeout;
  busy: boolean;
  since: number;
  seen: Map<string, number>;
  runUpdatedAt: number;
  afterId: number;
}

export class LiveHub {
  readonly #watches = new Map<string, Watch>();
  constructor(
    private readonly store: () => Promise<HistoryReader>,
    private readonly pollMs: number,
  ) {}

  /** Flow runs being watched now (for tests: polling stops with the last listener). */
  get watching(): number {
    return this.#watches.size;
  }

  subscribe(flowRunId: string, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): void {
    res.writeHead(200, { ...headers, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" });
    res.write("retry: 1000\n\n");
    let watch = this.#watches.get(flowRunId);
    if (!watch) {
      // Start from the page's own load: it read everything up to now, and anything newer is sent.
      watch = { clients: new Set(), busy: false, since: Date.now() - SLACK_MS, seen: new Map(), runUpdatedAt: 0, afterId: Number(new URL(req.url ?? "/", "http://x").searchParams.get("afterLog") ?? 0) || 0 };
      this.#watches.set(flowRunId, watch);
      const w = watch;
      w.timer = setInterval(() => void this.#poll(flowRunId, w), this.pollMs);
    }
    watch.clients.add(res);
    const heartbeat = setInterval(() => res.write(": alive\n\n"), 15_000);
    const drop = () => {
      clearInterval(heartbeat);
      const w = this.#watches.get(flowRunId);
      if (!w) return;
      w.clients.delete(res);
      if (w.clients.size === 0) {
        clearInterval(w.timer);
        this.#watches.delete(flowRunId);
      }
    };
    req.on("close", drop);
    res.on("error", drop);
  }

  async #poll(id: string, w: Watch): Promise<void> {
    if (w.busy) return;
    w.busy = true;
    try {
      const store = await this.store();
      const started = Date.now();
      // Read the run first and send it last: a page stops listening when the run is final, after what led there.
      const run = await store.flowRun(id);
      const changed: TaskRunRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.taskRuns({ flowRunId: id, updatedSince: w.since, limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const t of page.items) {
          if (w.seen.get(t.id) === t.updatedAt) continue;
          w.seen.set(t.id, t.updatedAt);
          changed.push(t);
        }
        cursor = page.nextCursor;
      } while (cursor);
      if (changed.length) this.#send(w, "tasks", changed);
      const logs: LogRecordRow[] = [];
      cursor = undefined;
      do {
        const page = await store.logs({ flowRunId: id, afterId: w.afterId, limit: 500, ...(cursor ? { cursor } : {}) });
        logs.push(...page.items);
        cursor = logs.length < 5000 ? page.nextCursor : undefined;
      } while (cursor);
      if (logs.length) {
        w.afterId = Math.max(w.afterId, ...logs.map((l) => l.id));
        this.#send(w, "logs", logs);
      }
      if (run && run.updatedAt !== w.runUpdatedAt) {
        w.runUpdatedAt = run.updatedAt;
        this.#send(w, "run", run);
      }
      w.since = started - SLACK_MS;
    } catch (error) {
      this.#send(w, "problem", { error: (error as Error).message });
    } finally {
      w.busy = false;
    }
  }

  #send(w: Watch, event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of w.clients) res.write(frame);
  }

  close(): void {
    for (const w of this.#watches.values()) {
      clearInterval(w.timer);
      for (const res of w.clients) res.end();
    }
    this.#watches.clear();
  }
}
