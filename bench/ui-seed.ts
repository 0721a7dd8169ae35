/**
 * Bulk history for the UI benchmarks, written through the store's own write method (real flows of 100,000 task
 * runs or 10,000 flow runs would take the benchmark hours on this machine; the rows have the recorder's shape).
 */
import type { HistoryStore } from "../src/history/index.ts";
import type { FlowRunRecord, TaskRunRecord } from "../src/history/types.ts";
import type { StateType } from "../src/core/state.ts";

const STATES: StateType[] = ["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "FAILED"];

export function flowRun(i: number, t0: number, extra: Partial<FlowRunRecord> = {}): FlowRunRecord {
  const state = i % 13 === 0 ? "FAILED" : "COMPLETED";
  return {
    id: `bench-fr-${String(i).padStart(6, "0")}`, name: `bench-run-${i}`, flowName: `flow-${i % 7}`, parameters: `{ i: ${i} }`, state,
    stateName: state === "FAILED" ? "Failed" : "Completed", startTime: t0 + i * 1000, endTime: t0 + i * 1000 + 800, runner: "DaskTaskRunner",
    taskCounts: state === "FAILED" ? { COMPLETED: 99, FAILED: 1 } : { COMPLETED: 100 }, updatedAt: t0 + i * 1000 + 800, ...extra,
  };
}

/** A flow run of `n` task runs spread over `workers` worker lanes with `threads` each, ~20 ms a task. */
export async function seedBigRun(store: HistoryStore, id: string, n: number, workers = 4, threads = 2): Promise<FlowRunRecord> {
  const t0 = Date.now() - 3_600_000, slots = workers * threads, per = 20;
  const run = flowRun(0, t0, { id, name: `big-${n}`, flowName: "big", startTime: t0, endTime: t0 + Math.ceil(n / slots) * per + 50,
    taskCounts: { COMPLETED: n - Math.floor(n / 10), FAILED: Math.floor(n / 10) } });
  await store.write({ flowRuns: [run] });
  for (let from = 0; from < n; from += 5000) {
    const batch: TaskRunRecord[] = [];
    for (let i = from; i < Math.min(n, from + 5000); i++) {
      const slot = i % slots, start = t0 + 10 + Math.floor(i / slots) * per + (i % 3), end = start + per - 3;
      const state = STATES[i % 10]!;
      batch.push({ id: `${id}-t${i}`, flowRunId: id, name: `square-${i}`, taskName: "square", seq: i, created: t0 + i, worker: `tcp://127.0.0.1:${40000 + (slot % workers)}`,
        state, stateName: state === "FAILED" ? "Failed" : "Completed", daskKey: `square-${i}`,
        states: [{ type: "PENDING", name: "Pending", timestamp: t0 + i }, { type: "RUNNING", name: "Running", timestamp: start }, { type: state, name: state === "FAILED" ? "Failed" : "Completed", timestamp: end }],
        startTime: start, endTime: end, attempts: i % 97 === 0 ? 2 : 1, upstream: [], updatedAt: end,
        ...(state === "FAILED" ? { error: `ValueError: bad ${i}\n    at square (tasks.ts:3:9)` } : {}) });
    }
    await store.write({ taskRuns: batch });
  }
  return run;
}
