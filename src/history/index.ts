/**
 * Opening the run history: `DASKFLOW_HISTORY_URL` (postgres://…, postgresql://…, sqlite:/abs/path.db or a file path),
 * else `<project root>/.daskflow/history.db` (the project root is the nearest folder with a package.json, as for
 * `npx daskflow setup`). `history` reads the default store, opened on first use.
 */
import { isAbsolute, join, resolve } from "node:path";
import { findProjectRoot } from "../dask/environment.ts";
import { SqlHistoryStore } from "./sql-store.ts";
import type { FlowRunQuery, FlowRunRecord, LogQuery, LogRecordRow, Page, TaskRunQuery, TaskRunRecord, Timeline } from "./types.ts";

export type { FlowRunQuery, FlowRunRecord, LogQuery, LogRecordRow, Page, StateRecord, TaskRunQuery, TaskRunRecord, Timeline } from "./types.ts";
export type { WriteBatch, PruneCounts } from "./sql-store.ts";
export { parseDuration } from "./query.ts";
export { historyOff } from "../core/observer.ts";

/** A history store: SQLite or PostgreSQL, the same API. */
export type HistoryStore = SqlHistoryStore;

export interface HistoryLocation {
  kind: "sqlite" | "postgres";
  /** The file path or the connection URL. */
  target: string;
  /** For messages: the URL without its password. */
  display: string;
}

/** Where the history is, from `url` or DASKFLOW_HISTORY_URL, else the project's `.daskflow/history.db`. */
export function historyLocation(url: string | undefined = process.env.DASKFLOW_HISTORY_URL): HistoryLocation {
  const raw = url?.trim();
  if (raw && /^postgres(ql)?:\/\//i.test(raw)) {
    let display = raw;
    try {
      const parsed = new URL(raw);
      if (parsed.password) parsed.password = "***";
      display = parsed.href;
    } catch {
      // shown as given
    }
    return { kind: "postgres", target: raw, display };
  }
  if (raw) {
    const path = raw.startsWith("sqlite:") ? raw.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "") : raw;
    const target = isAbsolute(path) ? path : resolve(path);
    return { kind: "sqlite", target, display: target };
  }
  const root = findProjectRoot(process.cwd()) ?? process.cwd();
  const target = join(root, ".daskflow", "history.db");
  return { kind: "sqlite", target, display: target };
}


/** Opens (and creates or migrates) the store at `url`, DASKFLOW_HISTORY_URL or the default location. */
export async function openHistory(options: { url?: string } = {}): Promise<HistoryStore> {
  const where = historyLocation(options.url ?? process.env.DASKFLOW_HISTORY_URL);
  const db = where.kind === "postgres" ? await (await import("./postgres.ts")).openPostgres(where.target) : (await import("./sqlite.ts")).openSqlite(where.target);
  const store = new SqlHistoryStore(db, where.display);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}

let shared: Promise<HistoryStore> | undefined;

function defaultStore(): Promise<HistoryStore> {
  shared ??= openHistory();
  shared.catch(() => (shared = undefined)); // a failed open is retried on the next call
  return shared;
}

/**
 * The run history of this project (or of DASKFLOW_HISTORY_URL): flow runs newest first with keyset pagination,
 * a flow run's task runs, logs and timeline.
 */
export const history = {
  flowRuns: async (q: FlowRunQuery = {}): Promise<Page<FlowRunRecord>> => (await defaultStore()).flowRuns(q),
  flowRun: async (id: string): Promise<FlowRunRecord | undefined> => (await defaultStore()).flowRun(id),
  taskRuns: async (q: TaskRunQuery): Promise<Page<TaskRunRecord>> => (await defaultStore()).taskRuns(q),
  logs: async (q: LogQuery): Promise<Page<LogRecordRow>> => (await defaultStore()).logs(q),
  flowNames: async (): Promise<string[]> => (await defaultStore()).flowNames(),
  timeline: async (flowRunId: string): Promise<Timeline> => (await defaultStore()).timeline(flowRunId),
  /** Closes the default store (a process that read history may then exit without waiting for idle connections). */
  close: async (): Promise<void> => {
    const open = shared;
    shared = undefined;
    if (open) await (await open).close();
  },
};
