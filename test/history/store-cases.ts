/** The store's behaviour, one body for SQLite and PostgreSQL (store-sqlite.test.ts, store-postgres.test.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { HistoryStore } from "../../src/history/index.ts";
import type { FlowRunRecord, TaskRunRecord } from "../../src/history/types.ts";

export function flowRun(i: number, extra: Partial<FlowRunRecord> = {}): FlowRunRecord {
  return {
    id: `fr-${String(i).padStart(5, "0")}`, name: `run-${i}`, flowName: i % 2 ? "odd" : "even", parameters: `(${i})`,
    state: "COMPLETED", stateName: "Completed", startTime: 1_000_000 + i * 10, endTime: 1_000_005 + i * 10, runner: "ConcurrentTaskRunner",
    taskCounts: { COMPLETED: 2 }, updatedAt: 1_000_005 + i * 10, ...extra,
  };
}

export function taskRun(flowRunId: string, i: number, extra: Partial<TaskRunRecord> = {}): TaskRunRecord {
  return {
    id: `${flowRunId}-t${String(i).padStart(4, "0")}`, flowRunId, name: `add-${i}`, taskName: "add", seq: i, created: 2_000_000 + i,
    state: "COMPLETED", stateName: "Completed",
    states: [{ type: "PENDING", name: "Pending", timestamp: 2_000_000 + i }, { type: "RUNNING", name: "Running", timestamp: 2_000_001 + i }, { type: "COMPLETED", name: "Completed", timestamp: 2_000_003 + i }],
    startTime: 2_000_001 + i, endTime: 2_000_003 + i, attempts: 1, upstream: [], updatedAt: 2_000_003 + i, ...extra,
  };
}

/** `open` gives a fresh, empty store each call. */
export function storeCases(open: () => Promise<HistoryStore>): void {
  test("flow runs: newest first, filters, keyset pages stable while runs are added", async () => {
    const store = await open();
    try {
      await store.write({ flowRuns: Array.from({ length: 25 }, (_, i) => flowRun(i)) });
      const first = await store.flowRuns({ limit: 10 });
      assert.deepEqual(first.items.map((r) => r.id), Array.from({ length: 10 }, (_, i) => `fr-${String(24 - i).padStart(5, "0")}`));
      assert.ok(first.nextCursor);
      // Newer runs arrive between pages: the next page goes on where the first ended, nothing repeated or skipped.
      await store.write({ flowRuns: [flowRun(100), flowRun(101)] });
      const second = await store.flowRuns({ limit: 10, cursor: first.nextCursor });
      assert.deepEqual(second.items.map((r) => r.id), Array.from({ length: 10 }, (_, i) => `fr-${String(14 - i).padStart(5, "0")}`));
      const third = await store.flowRuns({ limit: 10, cursor: second.nextCursor! });
      assert.equal(third.items.length, 5);
      assert.equal(third.nextCursor, undefined);

      // Same start time: the id breaks the tie, so pages still neither repeat nor skip.
      await store.write({ flowRuns: [flowRun(200, { startTime: 5, id: "tie-a" }), flowRun(201, { startTime: 5, id: "tie-b" })] });
      const ties = await store.flowRuns({ until: 6, limit: 1 });
      const rest = await store.flowRuns({ until: 6, limit: 1, cursor: ties.nextCursor! });
      assert.deepEqual([...ties.items, ...rest.items].map((r) => r.id), ["tie-b", "tie-a"]);

      const odd = await store.flowRuns({ flowName: "odd", limit: 100 });
      assert.ok(odd.items.length > 0 && odd.items.every((r) => r.flowName === "odd"));
      await store.write({ flowRuns: [flowRun(3, { state: "FAILED", stateName: "Failed", message: "1/2 task runs failed" })] });
      const failed = await store.flowRuns({ state: ["FAILED", "CRASHED"] });
      assert.deepEqual(failed.items.map((r) => [r.id, r.message]), [["fr-00003", "1/2 task runs failed"]]);
      assert.equal((await store.flowRuns({ since: 1_000_000 + 20 * 10, until: 1_000_000 + 22 * 10 })).items.length, 2);
      assert.deepEqual(await store.flowNames(), ["even", "odd"]);
      assert.equal((await store.flowRun("fr-00007"))?.parameters, "(7)");
      assert.equal(await store.flowRun("nope"), undefined);
      await assert.rejects(store.flowRuns({ cursor: "garbage" }), /cursor/);
    } finally {
      await store.close();
    }
  });

  test("task runs, states, upstreams, updatedSince, timeline", async () => {
    const store = await open();
    try {
      await store.write({
        flowRuns: [flowRun(1)],
        taskRuns: [
          taskRun("fr-00001", 0, { daskKey: "add-abc", worker: "tcp://w1", cacheKey: "k1", cacheHit: true, resultLocation: "/tmp/r", stateName: "Cached" }),
          taskRun("fr-00001", 1, { upstream: ["fr-00001-t0000"], worker: "tcp://w2", attempts: 2 }),
          taskRun("fr-00001", 2, { state: "FAILED", stateName: "Failed", error: "Error: boom\n    at x", updatedAt: 9_000_000 }),
        ],
      });
      const page = await store.taskRuns({ flowRunId: "fr-00001" });
      assert.deepEqual(page.items.map((t) => t.name), ["add-0", "add-1", "add-2"]);
      const [a, b, c] = page.items;
      assert.equal(a!.daskKey, "add-abc");
      assert.equal(a!.cacheHit, true);
      assert.equal(a!.resultLocation, "/tmp/r");
      assert.deepEqual(a!.states.map((s) => s.name), ["Pending", "Running", "Completed"]);
      assert.deepEqual(b!.upstream, ["fr-00001-t0000"]);
      assert.equal(c!.error, "Error: boom\n    at x");
      assert.deepEqual((await store.taskRuns({ flowRunId: "fr-00001", state: "FAILED" })).items.map((t) => t.name), ["add-2"]);
      assert.deepEqual((await store.taskRuns({ flowRunId: "fr-00001", updatedSince: 8_000_000 })).items.map((t) => t.name), ["add-2"]);
      const p1 = await store.taskRuns({ flowRunId: "fr-00001", limit: 2 });
      const p2 = await store.taskRuns({ flowRunId: "fr-00001", limit: 2, cursor: p1.nextCursor! });
      assert.deepEqual([...p1.items, ...p2.items].map((t) => t.name), ["add-0", "add-1", "add-2"]);
      // A later version of a record replaces the earlier one.
      await store.write({ taskRuns: [taskRun("fr-00001", 2, { state: "COMPLETED", stateName: "Completed", attempts: 3 })] });
      assert.equal((await store.taskRuns({ flowRunId: "fr-00001" })).items[2]!.attempts, 3);

      const t = await store.timeline("fr-00001");
      assert.deepEqual(t.names, ["add-0", "add-1", "add-2"]);
      assert.deepEqual(t.worker.map((w) => t.workers[w] ?? null), ["tcp://w1", "tcp://w2", null]);
      assert.deepEqual(t.cacheHit, [true, false, false]);
      assert.deepEqual(t.attempts, [1, 2, 3]);
      assert.equal(t.stateNames[t.stateName[0]!], "Cached");
      assert.equal(t.start[1], 2_000_002);
    } finally {
      await store.close();
    }
  });

  test("logs: level filter, search, afterId, pages; prune deletes old runs with theirs", async () => {
    const store = await open();
    try {
      await store.write({ flowRuns: [flowRun(1), flowRun(50)] });
      await store.write({
        logs: [
          { flowRunId: "fr-00001", level: "info", timestamp: 1, message: "Beginning flow run" },
          { flowRunId: "fr-00001", taskRunId: "t1", level: "warning", timestamp: 2, message: "50% done_x", worker: "tcp://w1" },
          { flowRunId: "fr-00001", taskRunId: "t1", level: "error", timestamp: 3, message: "BOOM happened" },
          { flowRunId: "fr-00050", level: "info", timestamp: 4, message: "other run" },
        ],
        taskRuns: [taskRun("fr-00001", 0), taskRun("fr-00050", 0)],
      });
      const all = await store.logs({ flowRunId: "fr-00001" });
      assert.deepEqual(all.items.map((l) => l.message), ["Beginning flow run", "50% done_x", "BOOM happened"]);
      assert.equal(all.items[1]!.worker, "tcp://w1");
      assert.deepEqual((await store.logs({ flowRunId: "fr-00001", level: "warning" })).items.map((l) => l.level), ["warning", "error"]);
      assert.deepEqual((await store.logs({ flowRunId: "fr-00001", taskRunId: "t1" })).items.length, 2);
      assert.deepEqual((await store.logs({ flowRunId: "fr-00001", search: "boom" })).items.map((l) => l.message), ["BOOM happened"]);
      // LIKE's wildcards in the search are plain text.
      assert.deepEqual((await store.logs({ flowRunId: "fr-00001", search: "0% d" })).items.map((l) => l.message), ["50% done_x"]);
      assert.deepEqual((await store.logs({ flowRunId: "fr-00001", search: "e_x" })).items.map((l) => l.message), ["50% done_x"]);
      assert.equal((await store.logs({ flowRunId: "fr-00001", search: "%" })).items.length, 1);
      assert.deepEqual((await store.logs({ flowRunId: "fr-00001", afterId: all.items[1]!.id })).items.map((l) => l.message), ["BOOM happened"]);
      const p1 = await store.logs({ flowRunId: "fr-00001", limit: 2 });
      assert.deepEqual((await store.logs({ flowRunId: "fr-00001", limit: 2, cursor: p1.nextCursor! })).items.map((l) => l.message), ["BOOM happened"]);

      const counts = await store.prune(1_000_000 + 20 * 10);
      assert.deepEqual(counts, { flowRuns: 1, taskRuns: 1, logs: 3 });
      assert.equal(await store.flowRun("fr-00001"), undefined);
      assert.equal((await store.logs({ flowRunId: "fr-00050" })).items.length, 1);
      // Ids keep counting up after a prune: a page polling afterId misses nothing new.
      await store.write({ logs: [{ flowRunId: "fr-00050", level: "info", timestamp: 5, message: "new" }] });
      assert.ok((await store.logs({ flowRunId: "fr-00050" })).items[1]!.id > all.items[2]!.id);
    } finally {
      await store.close();
    }
  });
}
