/** A flow run's timeline in the browser's shape (client/wire.ts), from the store's columnar `timeline()`. */
import type { FlowRunRecord } from "../history/types.ts";
import type { HistoryReader } from "./reader.ts";
import { STATES, UPSTREAM_MAX, type TimelineWire } from "./client/wire.ts";

/** The lane of task runs that ran in the flow process (no Dask worker). */
const LOCAL = "flow process";

export async function timeline(store: HistoryReader, run: FlowRunRecord): Promise<TimelineWire> {
  const t = await store.timeline(run.id);
  const now = Date.now(), t0 = run.startTime, n = t.ids.length;
  const local = t.worker.includes(-1);
  const lanes = local ? [...t.workers, LOCAL] : [...t.workers];
  const stateIndex = t.states.map((s) => Math.max(0, STATES.indexOf(s as (typeof STATES)[number])));
  const wire: TimelineWire = { t0, lanes, names: t.names, lane: new Array<number>(n), start: new Array<number>(n), end: new Array<number>(n),
    state: new Array<number>(n), attempts: t.attempts, cached: new Array<number>(n), now };
  for (let i = 0; i < n; i++) {
    const w = t.worker[i]!, s = t.start[i]!, e = t.end[i]!;
    wire.lane[i] = w < 0 ? lanes.length - 1 : w;
    // The store gives 0 for a time not reached yet.
    wire.start[i] = s > 0 ? s - t0 : -1;
    wire.end[i] = e > 0 ? e - t0 : -1;
    wire.state[i] = stateIndex[t.state[i]!] ?? 0;
    wire.cached[i] = t.cacheHit[i] ? 1 : 0;
  }
  if (n > 0 && n <= UPSTREAM_MAX) wire.up = await upstreams(store, run.id, t.ids);
  return wire;
}

/** The upstream links, as indexes (the store's timeline has no upstream column; its task run pages do). */
async function upstreams(store: HistoryReader, flowRunId: string, ids: string[]): Promise<number[][]> {
  const index = new Map(ids.map((id, i) => [id, i]));
  const up: number[][] = ids.map(() => []);
  let cursor: string | undefined;
  do {
    const page = await store.taskRuns({ flowRunId, limit: 5000, ...(cursor ? { cursor } : {}) });
    for (const r of page.items) {
      const i = index.get(r.id);
      if (i === undefined) continue;
      for (const u of r.upstream) {
        const j = index.get(u);
        if (j !== undefined) up[i]!.push(j);
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  return up;
}
