/** The recorder with real flows in this process (ConcurrentTaskRunner): what a user finds in `history` after a run. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { captureStderr, withLoggingLevel } from "../helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "daskflow-recorder-"));
process.env.DASKFLOW_HISTORY_URL = join(dir, "history.db");
delete process.env.DASKFLOW_HISTORY;
const { flow, task, getRunLogger, history } = await import("../../src/index.ts");
after(async () => {
  await history.close();
  rmSync(dir, { recursive: true, force: true });
});

const add = task((a: number, b: number) => a + b);
let calls = 0;
const flaky = task({ retries: 2, retryDelaySeconds: 0 }, (x: number) => {
  if (++calls < 2) throw new Error("first attempt fails");
  getRunLogger().warning(`flaky got ${x}`);
  return x;
});
const boom = task(function boom(): number {
  throw new TypeError("no luck <b>here</b>");
});
const child = flow({ name: "child-flow" }, async (x: number) => add(x, 1));

test("a finished flow run is in the history when flow() returns, with its task runs, states, upstreams and logs", async () => {
  const parent = flow({ name: "history-parent" }, async (x: number, _label: string) => {
    getRunLogger().info("parent starting");
    const a = add.submit(x, 1);
    const b = add.submit(a, 10);
    const f = flaky.submit(5);
    const c = add.with({ waitFor: [f] }).submit(1, 1);
    const bad = boom.submit();
    const mapped = add.map([1, 2, 3], 100);
    const nested = await child(7);
    await bad.wait();
    return { b: await b.result(), c: await c.result(), mapped: await Promise.all(mapped.map((m) => m.result())), nested };
  });
  // Info lines are recorded when the logging level lets them through (as they print).
  const { value: state } = await withLoggingLevel("INFO", () => captureStderr(() => parent.returnState(3, "x".repeat(500))));
  assert.equal(state.type, "COMPLETED");

  const [run] = (await history.flowRuns({ flowName: "history-parent" })).items;
  assert.ok(run, "the flow run is recorded");
  assert.equal(run.state, "COMPLETED");
  assert.equal(run.runner, "ConcurrentTaskRunner");
  assert.match(run.parameters, /^\(3, "x{40}…"\)$/);
  assert.ok(run.endTime! >= run.startTime);
  assert.deepEqual(run.taskCounts, { COMPLETED: 7, FAILED: 1 });

  const tasks = (await history.taskRuns({ flowRunId: run.id })).items;
  assert.equal(tasks.length, 8);
  const byName = (prefix: string) => tasks.filter((t) => t.taskName === prefix);
  const [first, second] = byName("add");
  assert.deepEqual(second!.upstream, [first!.id], "a future among the arguments is an upstream");
  const flakyRun = byName("flaky")[0]!;
  assert.equal(flakyRun.attempts, 2);
  assert.deepEqual(flakyRun.states.map((s) => s.name), ["Scheduled", "Running", "Retrying", "Completed"]);
  const waited = tasks.find((t) => t.upstream.includes(flakyRun.id));
  assert.ok(waited, "waitFor futures are upstreams");
  const boomRun = byName("boom")[0]!;
  assert.equal(boomRun.state, "FAILED");
  assert.match(boomRun.error!, /TypeError: no luck <b>here<\/b>\n\s+at /);
  assert.ok(tasks.every((t) => t.startTime !== undefined && t.endTime! >= t.startTime));

  const logs = (await history.logs({ flowRunId: run.id })).items;
  assert.ok(logs.some((l) => l.message === "parent starting" && l.taskRunId === undefined));
  const warned = logs.find((l) => l.message === "flaky got 5");
  assert.equal(warned?.taskRunId, flakyRun.id);
  assert.equal(warned?.taskRunName, flakyRun.name, "a task run's line names it");
  assert.equal(warned?.level, "warning");
  assert.ok(logs.some((l) => /^Finished in state Completed/.test(l.message)));
  assert.deepEqual((await history.logs({ flowRunId: run.id, level: "warning" })).items.every((l) => l.level !== "info"), true);

  // The nested flow run is recorded too, with its parent.
  const [nested] = (await history.flowRuns({ flowName: "child-flow" })).items;
  assert.equal(nested?.parentFlowRunId, run.id);
  assert.equal(nested?.state, "COMPLETED");
  assert.equal((await history.taskRuns({ flowRunId: nested.id })).items.length, 1);
});

test("a failed flow run: its state, message naming the failed task runs, and error", async () => {
  const failing = flow({ name: "history-failing" }, () => boom.submit());
  const state = await failing.returnState();
  assert.equal(state.type, "FAILED");
  const [run] = (await history.flowRuns({ flowName: "history-failing", state: "FAILED" })).items;
  assert.ok(run);
  assert.match(run.message!, /boom-/);
  assert.match(run.error!, /TypeError: no luck/);
  const timeline = await history.timeline(run.id);
  assert.equal(timeline.ids.length, 1);
  assert.equal(timeline.states[timeline.state[0]!], "FAILED");
});

test("a running flow run is in the history while it runs: its state, its running task run and its logs", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slow = task(async function slow() {
    getRunLogger().warning("slow is waiting");
    await gate;
    return 1;
  });
  const live = flow({ name: "history-live" }, async () => slow.submit().result());
  const done = live();
  try {
    // The recorder writes what changed a few times a second: wait (bounded) for the running picture.
    let seen: { run?: string; task?: string; log?: string } = {};
    for (let i = 0; i < 100 && !(seen.task === "RUNNING" && seen.log); i++) {
      await new Promise((r) => setTimeout(r, 50));
      const [run] = (await history.flowRuns({ flowName: "history-live" })).items;
      if (!run) continue;
      const [t] = (await history.taskRuns({ flowRunId: run.id })).items;
      const [line] = (await history.logs({ flowRunId: run.id, search: "slow is waiting" })).items;
      seen = { run: run.state, ...(t && { task: t.state }), ...(line && { log: line.taskRunId }) };
    }
    assert.equal(seen.run, "RUNNING");
    assert.equal(seen.task, "RUNNING");
    assert.ok(seen.log, "the task's log line, filed under its task run");
  } finally {
    release();
    await done;
  }
  const [run] = (await history.flowRuns({ flowName: "history-live" })).items;
  assert.equal(run?.state, "COMPLETED");
});

const cachedDouble = task({ cachePolicy: "inputs" }, (x: number) => x * 2);

test("a persisted task run's record has its cache key and result location; a hit in the next run is marked a cache hit", async () => {
  const resultStorage = join(dir, "results");
  const run = flow({ name: "history-cache", resultStorage }, async (x: number) => cachedDouble.submit(x).result());
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    assert.equal(await run(21), 42);
    const [latest] = (await history.flowRuns({ flowName: "history-cache", limit: 1 })).items;
    ids.push(latest!.id);
  }
  const [first, second] = await Promise.all(ids.map(async (id) => (await history.taskRuns({ flowRunId: id })).items[0]!));
  assert.equal(first!.stateName, "Completed");
  assert.match(first!.cacheKey ?? "", /^[0-9a-f]{16,}/);
  assert.ok(first!.resultLocation?.startsWith(resultStorage), first!.resultLocation);
  assert.notEqual(first!.cacheHit, true);
  assert.equal(second!.stateName, "Cached");
  assert.equal(second!.cacheHit, true);
  assert.equal(second!.cacheKey, first!.cacheKey);
});
