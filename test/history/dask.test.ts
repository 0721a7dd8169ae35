/**
 * The recorder on a real Dask LocalCluster: each task run's worker and Dask key, its states (retries included),
 * worker log lines filed under their task run, and the flow run's cluster address and dashboard link.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { captureStderr, withLoggingLevel } from "../helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "daskflow-history-dask-"));
process.env.DASKFLOW_HISTORY_URL = join(dir, "history.db");
delete process.env.DASKFLOW_HISTORY;
const { flow, history } = await import("../../src/index.ts");
const { DaskTaskRunner } = await import("../../src/dask/index.ts");
const { logged } = await import("../dask/progress-tasks.ts");
after(async () => {
  await history.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a flow run on Dask: workers, Dask keys, retries and worker log lines recorded with their task runs", async () => {
  const f = flow({ name: "history-dask", taskRunner: new DaskTaskRunner({ clusterKwargs: { nWorkers: 1, threadsPerWorker: 2 } }) }, async () => {
    const single = logged.map([1, 2, 3, 4]);
    const batched = logged.with({ batchSize: 3 }).map([5, 6, 7, 8, 9, 10]);
    await Promise.all([...single, ...batched].map((x) => x.wait()));
    return single.length + batched.length;
  });
  const { value: state } = await withLoggingLevel("INFO", () => captureStderr(() => f.returnState()));
  assert.equal(state.type, "COMPLETED");

  const [run] = (await history.flowRuns({ flowName: "history-dask" })).items;
  assert.ok(run);
  assert.equal(run.runner, "DaskTaskRunner");
  assert.match(run.clusterAddress ?? "", /^tcp:\/\//);
  assert.match(run.dashboardLink ?? "", /^http:\/\/.*status/);
  assert.deepEqual(run.taskCounts, { COMPLETED: 8, FAILED: 2 });

  const tasks = (await history.taskRuns({ flowRunId: run.id })).items;
  assert.equal(tasks.length, 10);
  for (const t of tasks) {
    assert.match(t.worker ?? "", /^tcp:\/\//, `${t.name} has its worker`);
    assert.match(t.daskKey ?? "", /logged/, `${t.name} has its Dask key`);
    assert.ok(t.startTime !== undefined && t.endTime !== undefined && t.startTime <= t.endTime, `${t.name} has start and end`);
  }
  // Items of one batch share their Dask key.
  const batchKeys = new Set(tasks.slice(4).map((t) => t.daskKey));
  assert.equal(batchKeys.size, 2);
  const failed = tasks.filter((t) => t.state === "FAILED");
  assert.equal(failed.length, 2);
  for (const t of failed) {
    assert.equal(t.attempts, 2, `retries: 1 → two attempts: ${JSON.stringify(t.states)}`);
    assert.match(t.error ?? "", /Error: bad item \d+/);
  }

  const logs = (await history.logs({ flowRunId: run.id, search: "item " })).items.filter((l) => /^item \d+$/.test(l.message));
  // Each item logs once per attempt: 10 items, 2 of them twice.
  assert.equal(logs.length, 12);
  for (const line of logs) {
    const owner = tasks.find((t) => t.id === line.taskRunId);
    assert.ok(owner, `'${line.message}' is filed under its task run`);
    assert.equal(line.message, `item ${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10][tasks.indexOf(owner)]}`);
    assert.match(line.worker ?? "", /^tcp:\/\//);
  }
  const timeline = await history.timeline(run.id);
  assert.equal(timeline.workers.length, 1);
  assert.ok(timeline.worker.every((w) => w === 0));
});
