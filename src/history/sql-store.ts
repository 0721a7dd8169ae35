/**
 * The history store over SQL: the queries, writes and row shapes both databases share. A `Db` (sqlite.ts,
 * postgres.ts) runs statements with `?` placeholders and gives transactions that wait for other writers.
 */
import { LEVELS } from "../core/logger.ts";
import type { StateType } from "../core/state.ts";
import { type Dialect, SCHEMA_VERSION, VERSION_TABLE, migrationsFrom } from "./schema.ts";
import { decodeCursor, encodeCursor, likePattern, pageLimit, toTime } from "./query.ts";
import type { FlowRunQuery, FlowRunRecord, LogQuery, LogRecordRow, Page, StateRecord, TaskRunQuery, TaskRunRecord, Timeline } from "./types.ts";

export type Row = Record<string, unknown>;

export interface Tx {
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export interface Db extends Tx {
  readonly dialect: Dialect;
  /** One write transaction; it waits for other writers (never "database is locked"). `exclusive`: also for other
   * exclusive ones (schema changes) on databases whose writers otherwise run side by side. */
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: { exclusive?: boolean }): Promise<T>;
  close(): Promise<void>;
}

/** What the recorder writes in one transaction: whole records, inserted or replacing the previous version. */
export interface WriteBatch {
  flowRuns?: FlowRunRecord[];
  taskRuns?: TaskRunRecord[];
  logs?: Array<Omit<LogRecordRow, "id">>;
}

export interface PruneCounts {
  flowRuns: number;
  taskRuns: number;
  logs: number;
}

const FLOW_COLS = ["id", "name", "flow_name", "parameters", "state", "state_name", "message", "error", "start_time", "end_time", "runner",
  "cluster_address", "dashboard_link", "resumed_from", "parent_flow_run_id", "parent_task_run_id", "task_counts", "updated_at"];
const TASK_COLS = ["id", "flow_run_id", "name", "task_name", "seq", "created", "dask_key", "worker", "state", "state_name", "states",
  "start_time", "end_time", "attempts", "upstream", "cache_key", "cache_hit", "result_location", "error", "updated_at"];
const LOG_COLS = ["flow_run_id", "task_run_id", "level", "timestamp", "message", "worker", "task_run_name"];
const LEVEL_NAMES = Object.fromEntries(Object.entries(LEVELS).map(([k, v]) => [v, k])) as Record<number, LogRecordRow["level"]>;
/** Rows per INSERT statement: well under both databases' limits on parameters. */
const CHUNK = 400;

const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
const str = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v));
const nul = (v: unknown): unknown => (v === undefined ? null : v);

function upsert(table: string, cols: string[], rows: unknown[][], key: string[]): Array<[string, unknown[]]> {
  const set = cols.filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`).join(", ");
  return chunks(rows).map((part) => [
    `INSERT INTO ${table} (${cols.join(", ")}) VALUES ${part.map(() => `(${cols.map(() => "?").join(", ")})`).join(", ")} ON CONFLICT (${key.join(", ")}) DO UPDATE SET ${set}`,
    part.flat(),
  ]);
}

function insert(table: string, cols: string[], rows: unknown[][]): Array<[string, unknown[]]> {
  return chunks(rows).map((part) => [`INSERT INTO ${table} (${cols.join(", ")}) VALUES ${part.map(() => `(${cols.map(() => "?").join(", ")})`).join(", ")}`, part.flat()]);
}

function chunks<T>(rows: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
  return out;
}

const inList = (values: readonly unknown[]) => `(${values.map(() => "?").join(", ")})`;
const states = (s: StateType | readonly StateType[] | undefined): readonly StateType[] | undefined => (s === undefined ? undefined : typeof s === "string" ? [s] : s);

export class SqlHistoryStore {
  constructor(
    readonly db: Db,
    /** Where it is, for messages: a file path or a URL without its password. */
    readonly location: string,
  ) {}

  get kind(): Dialect {
    return this.db.dialect;
  }

  /** Creates or brings forward the schema; concurrent openers wait for each other inside the transaction. */
  async migrate(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(VERSION_TABLE);
      const [row] = await tx.all("SELECT MAX(version) AS v FROM schema_version");
      const current = num(row?.v) ?? 0;
      if (current > SCHEMA_VERSION) {
        throw new Error(`The run history at ${this.location} has schema version ${current}, newer than this daskflow's ${SCHEMA_VERSION}. Upgrade daskflow, or point DASKFLOW_HISTORY_URL elsewhere.`);
      }
      for (const { version, statements } of migrationsFrom(current, this.db.dialect)) {
        for (const sql of statements) await tx.run(sql);
        await tx.run("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", [version, Date.now()]);
      }
    }, { exclusive: true });
  }

  async write(batch: WriteBatch): Promise<void> {
    const statements = [
      ...upsert("flow_runs", FLOW_COLS, (batch.flowRuns ?? []).map(flowRow), ["id"]),
      ...upsert("task_runs", TASK_COLS, (batch.taskRuns ?? []).map(taskRow), ["flow_run_id", "seq"]),
      ...insert("logs", LOG_COLS, (batch.logs ?? []).map((l) => [l.flowRunId, nul(l.taskRunId), LEVELS[l.level], l.timestamp, l.message, nul(l.worker), nul(l.taskRunName)])),
    ];
    if (statements.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const [sql, params] of statements) await tx.run(sql, params);
    });
  }

  /** Newest first; keyset pagination by (start time, id), so a page does not shift while runs are added. */
  async flowRuns(q: FlowRunQuery = {}): Promise<Page<FlowRunRecord>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.flowName !== undefined) { where.push("flow_name = ?"); params.push(q.flowName); }
    const s = states(q.state);
    if (s?.length) { where.push(`state IN ${inList(s)}`); params.push(...s); }
    if (q.since !== undefined) { where.push("start_time >= ?"); params.push(toTime(q.since, "since")); }
    if (q.until !== undefined) { where.push("start_time < ?"); params.push(toTime(q.until, "until")); }
    if (q.cursor) {
      const [t, id] = decodeCursor(q.cursor, 2);
      where.push("(start_time < ? OR (start_time = ? AND id < ?))");
      params.push(Number(t), Number(t), String(id));
    }
    const limit = pageLimit(q.limit, 50, 1000);
    const rows = await this.db.all(
      `SELECT * FROM flow_runs${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY start_time DESC, id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const items = rows.slice(0, limit).map(toFlowRun);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.startTime, last.id]) : undefined };
  }

  async flowRun(id: string): Promise<FlowRunRecord | undefined> {
    const [row] = await this.db.all("SELECT * FROM flow_runs WHERE id = ?", [id]);
    return row ? toFlowRun(row) : undefined;
  }

  /** In submission order; keyset by seq. */
  async taskRuns(q: TaskRunQuery): Promise<Page<TaskRunRecord>> {
    const where = ["flow_run_id = ?"];
    const params: unknown[] = [q.flowRunId];
    const s = states(q.state);
    if (s?.length) { where.push(`state IN ${inList(s)}`); params.push(...s); }
    if (q.updatedSince !== undefined) { where.push("updated_at > ?"); params.push(q.updatedSince); }
    if (q.cursor) {
      where.push("seq > ?");
      params.push(Number(decodeCursor(q.cursor, 1)[0]));
    }
    const limit = pageLimit(q.limit, 1000, 100_000);
    const rows = await this.db.all(`SELECT * FROM task_runs WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`, [...params, limit + 1]);
    const items = rows.slice(0, limit).map(toTaskRun);
    const last = rows[limit - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([Number(last.seq)]) : undefined };
  }

  /** Oldest first, by id (the order they were written). */
  async logs(q: LogQuery): Promise<Page<LogRecordRow>> {
    const where = ["flow_run_id = ?"];
    const params: unknown[] = [q.flowRunId];
    if (q.taskRunId !== undefined) { where.push("task_run_id = ?"); params.push(q.taskRunId); }
    if (q.level !== undefined) { where.push("level >= ?"); params.push(LEVELS[q.level]); }
    if (q.search) { where.push("LOWER(message) LIKE ? ESCAPE '\\'"); params.push(likePattern(q.search)); }
    const after = Math.max(q.afterId ?? 0, q.cursor ? Number(decodeCursor(q.cursor, 1)[0]) : 0);
    if (after > 0) { where.push("id > ?"); params.push(after); }
    const limit = pageLimit(q.limit, 1000, 100_000);
    const rows = await this.db.all(`SELECT * FROM logs WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`, [...params, limit + 1]);
    const items = rows.slice(0, limit).map(toLog);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : undefined };
  }

  async flowNames(): Promise<string[]> {
    const rows = await this.db.all("SELECT DISTINCT flow_name FROM flow_runs ORDER BY flow_name");
    return rows.map((r) => String(r.flow_name));
  }

  /** A flow run's task runs in columns, for a timeline of up to 100,000 bars (see `Timeline`). */
  async timeline(flowRunId: string): Promise<Timeline> {
    const rows = await this.db.all(
      "SELECT id, name, task_name, worker, start_time, end_time, state, state_name, attempts, cache_hit, created, seq FROM task_runs WHERE flow_run_id = ?",
      [flowRunId],
    );
    rows.sort((a, b) => Number(a.start_time ?? a.created) - Number(b.start_time ?? b.created) || Number(a.seq) - Number(b.seq));
    const t: Timeline = { flowRunId, ids: [], names: [], taskNames: [], workers: [], worker: [], start: [], end: [], states: [], state: [], stateNames: [], stateName: [], attempts: [], cacheHit: [] };
    const index = (list: string[], seen: Map<string, number>, v: string) => {
      let i = seen.get(v);
      if (i === undefined) seen.set(v, (i = list.push(v) - 1));
      return i;
    };
    const workers = new Map<string, number>(), stateTypes = new Map<string, number>(), names = new Map<string, number>();
    for (const r of rows) {
      t.ids.push(String(r.id));
      t.names.push(String(r.name));
      t.taskNames.push(String(r.task_name));
      t.worker.push(r.worker === null ? -1 : index(t.workers, workers, r.worker as string));
      t.start.push(num(r.start_time) ?? 0);
      t.end.push(num(r.end_time) ?? 0);
      t.state.push(index(t.states, stateTypes, String(r.state)));
      t.stateName.push(index(t.stateNames, names, String(r.state_name)));
      t.attempts.push(Number(r.attempts));
      t.cacheHit.push(Number(r.cache_hit ?? 0) === 1);
    }
    return t;
  }

  /** Deletes flow runs that started before `before` (epoch ms), with their task runs and logs. */
  async prune(before: number): Promise<PruneCounts> {
    const old = "SELECT id FROM flow_runs WHERE start_time < ?";
    return this.db.transaction(async (tx) => ({
      logs: await tx.run(`DELETE FROM logs WHERE flow_run_id IN (${old})`, [before]),
      taskRuns: await tx.run(`DELETE FROM task_runs WHERE flow_run_id IN (${old})`, [before]),
      flowRuns: await tx.run("DELETE FROM flow_runs WHERE start_time < ?", [before]),
    }));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

function flowRow(r: FlowRunRecord): unknown[] {
  return [r.id, r.name, r.flowName, r.parameters, r.state, r.stateName, nul(r.message), nul(r.error), r.startTime, nul(r.endTime), r.runner, nul(r.clusterAddress),
    nul(r.dashboardLink), nul(r.resumedFrom), nul(r.parentFlowRunId), nul(r.parentTaskRunId), JSON.stringify(r.taskCounts), r.updatedAt];
}

function taskRow(r: TaskRunRecord): unknown[] {
  // States as [type, name, time, message?]: a task run's few states in ~40 bytes each.
  const packed = r.states.map((s) => (s.message === undefined ? [s.type, s.name, s.timestamp] : [s.type, s.name, s.timestamp, s.message]));
  return [r.id, r.flowRunId, r.name, r.taskName, r.seq ?? 0, r.created ?? r.startTime ?? r.updatedAt, nul(r.daskKey), nul(r.worker), r.state, r.stateName,
    JSON.stringify(packed), nul(r.startTime), nul(r.endTime), r.attempts, r.upstream.length ? JSON.stringify(r.upstream) : null, nul(r.cacheKey),
    r.cacheHit === undefined ? null : r.cacheHit ? 1 : 0, nul(r.resultLocation), nul(r.error), r.updatedAt];
}

function toFlowRun(r: Row): FlowRunRecord {
  return {
    id: String(r.id), name: String(r.name), flowName: String(r.flow_name), parameters: String(r.parameters), state: r.state as StateType,
    stateName: String(r.state_name), message: str(r.message), error: str(r.error), startTime: Number(r.start_time), endTime: num(r.end_time), runner: String(r.runner),
    clusterAddress: str(r.cluster_address), dashboardLink: str(r.dashboard_link), resumedFrom: str(r.resumed_from),
    parentFlowRunId: str(r.parent_flow_run_id), parentTaskRunId: str(r.parent_task_run_id),
    taskCounts: JSON.parse(String(r.task_counts)) as FlowRunRecord["taskCounts"], updatedAt: Number(r.updated_at),
  };
}

function toTaskRun(r: Row): TaskRunRecord {
  const packed = JSON.parse(String(r.states)) as Array<[StateType, string, number, string?]>;
  const stateList: StateRecord[] = packed.map(([type, name, timestamp, message]) => (message === undefined ? { type, name, timestamp } : { type, name, timestamp, message }));
  return {
    id: String(r.id), flowRunId: String(r.flow_run_id), name: String(r.name), taskName: String(r.task_name), seq: Number(r.seq), created: Number(r.created),
    daskKey: str(r.dask_key), worker: str(r.worker), state: r.state as StateType, stateName: String(r.state_name), states: stateList,
    startTime: num(r.start_time), endTime: num(r.end_time), attempts: Number(r.attempts),
    upstream: r.upstream === null ? [] : (JSON.parse(r.upstream as string) as string[]), cacheKey: str(r.cache_key),
    cacheHit: r.cache_hit === null ? undefined : Number(r.cache_hit) === 1, resultLocation: str(r.result_location), error: str(r.error),
    updatedAt: Number(r.updated_at),
  };
}

function toLog(r: Row): LogRecordRow {
  return {
    id: Number(r.id), flowRunId: String(r.flow_run_id), taskRunId: str(r.task_run_id), level: LEVEL_NAMES[Number(r.level)] ?? "info",
    timestamp: Number(r.timestamp), message: String(r.message), worker: str(r.worker), taskRunName: str(r.task_run_name),
  };
}
