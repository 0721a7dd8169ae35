/** The UI's read-only JSON endpoints over the history store; query strings map onto the store's queries. */
import type { FlowRunQuery, LogQuery, LogRecordRow, TaskRunQuery } from "../history/types.ts";
import type { StateType } from "../core/state.ts";
import type { HistoryReader } from "./reader.ts";
import { STATES } from "./client/wire.ts";
import { timeline } from "./timeline.ts";

export class BadRequest extends Error {}

/** A body already serialized (a cached timeline): sent as it is. */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * Timelines of final runs, serialized, by run id: a 100k task run timeline takes the store about half a second to
 * read and never changes once its run is final. A few MB each, so only the last few are kept.
 */
const cached = new WeakMap<HistoryReader, Map<string, { updatedAt: number; json: RawJson }>>();
const TIMELINES_KEPT = 4;
const FINAL = new Set(["COMPLETED", "FAILED", "CRASHED", "CANCELLED"]);

const LEVELS = ["debug", "info", "warning", "error", "critical"] as const;
const PAGE_MAX = 500;

/** The JSON answer for an /api/ path, or undefined when there is no such resource. */
export async function handleApi(store: HistoryReader, path: string, q: URLSearchParams): Promise<unknown> {
  if (path === "/api/flows") return { items: await store.flowNames() };
  if (path === "/api/runs") {
    const query: FlowRunQuery = { limit: limit(q, 50) };
    const flow = q.get("flow"), state = states(q), since = q.get("since"), until = q.get("until"), cursor = q.get("cursor");
    if (flow) query.flowName = flow;
    if (state) query.state = state;
    if (since) query.since = time(since, "since");
    if (until) query.until = time(until, "until");
    if (cursor) query.cursor = cursor;
    return store.flowRuns(query);
  }
  const m = /^\/api\/runs\/([^/]+)(?:\/(tasks|logs|timeline|dashboard))?$/.exec(path);
  if (!m) return undefined;
  const id = decodeURIComponent(m[1]!);
  const run = await store.flowRun(id);
  if (!run) return undefined;
  switch (m[2]) {
    case undefined:
      return run;
    case "tasks": {
      const query: TaskRunQuery = { flowRunId: id, limit: limit(q, 100) };
      const state = states(q), cursor = q.get("cursor");
      if (state) query.state = state;
      if (cursor) query.cursor = cursor;
      return store.taskRuns(query);
    }
    case "logs": {
      const query: LogQuery = { flowRunId: id, limit: limit(q, 200) };
      const level = q.get("level"), search = q.get("search"), task = q.get("task"), cursor = q.get("cursor");
      if (level) {
        if (!(LEVELS as readonly string[]).includes(level)) throw new BadRequest(`level must be one of ${LEVELS.join(", ")}; got '${level}'.`);
        query.level = level as LogRecordRow["level"];
      }
      if (search) query.search = search;
      if (task) query.taskRunId = task;
      if (cursor) query.cursor = cursor;
      return store.logs(query);
    }
    case "timeline": {
      let timelines = cached.get(store);
      if (!timelines) cached.set(store, (timelines = new Map<string, { updatedAt: number; json: RawJson }>()));
      const hit = timelines.get(id);
      if (hit && hit.updatedAt === run.updatedAt) return hit.json;
      const json = new RawJson(JSON.stringify(await timeline(store, run)));
      if (FINAL.has(run.state)) {
        timelines.delete(id);
        timelines.set(id, { updatedAt: run.updatedAt, json });
        if (timelines.size > TIMELINES_KEPT) timelines.delete(timelines.keys().next().value!);
      }
      return json;
    }
    case "dashboard":
      return { alive: await dashboardAlive(run.dashboardLink) };
  }
  return undefined;
}

function limit(q: URLSearchParams, fallback: number): number {
  const raw = q.get("limit");
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > PAGE_MAX) throw new BadRequest(`limit must be a whole number from 1 to ${PAGE_MAX}; got '${raw}'.`);
  return n;
}

function states(q: URLSearchParams): StateType[] | undefined {
  const raw = q.getAll("state").flatMap((s) => s.split(",")).filter(Boolean);
  if (raw.length === 0) return undefined;
  for (const s of raw) if (!(STATES as readonly string[]).includes(s)) throw new BadRequest(`state must be among ${STATES.join(", ")}; got '${s}'.`);
  return raw as StateType[];
}

/** Epoch ms, an ISO date, or a duration back from now ("30m", "24h", "7d") as the store takes it. */
function time(raw: string, name: string): number | string {
  if (/^\d+$/.test(raw)) return Number(raw);
  if (/^\d+(\.\d+)?(s|m|h|d|w)$/.test(raw)) return raw;
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw new BadRequest(`${name} must be epoch ms, a date, or a duration such as 24h; got '${raw}'.`);
  return t;
}

/** Whether the run's Dask dashboard still answers (its cluster lives). Only http(s) links are tried, briefly. */
async function dashboardAlive(link: string | undefined): Promise<boolean> {
  if (!link || !/^https?:\/\//.test(link)) return false;
  try {
    const res = await fetch(link, { method: "HEAD", redirect: "manual", signal: AbortSignal.timeout(800) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
