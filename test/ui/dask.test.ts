/**
 * A flow run on a real Dask LocalCluster (2 workers, 1 thread each) in the UI: a lane per worker on the timeline,
 * and the Dask dashboard linked while the cluster lives, shown as gone once the run has closed it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { launchBrowser } from "./browser.ts";
import { startUi, eventually } from "./harness.ts";
import { nap, waitForFile } from "./dask-tasks.ts";

test("a Dask run: one timeline lane per worker, the dashboard link while its cluster lives", async () => {
  await using ui = await startUi();
  await using browser = await launchBrowser();
  const dir = mkdtempSync(join(tmpdir(), "daskflow-ui-gate-"));
  const gate = join(dir, "go");
  const onDask = flow({ name: "on-dask", taskRunner: new DaskTaskRunner({ clusterKwargs: { nWorkers: 2, threadsPerWorker: 1 } }) }, async () => {
    const naps = nap.map(Array.from({ length: 12 }, () => 150));
    await Promise.all(naps.map((f) => f.wait()));
    return waitForFile.submit(gate).result();
  });
  const running = onDask.returnState();
  try {
    const run = await eventually("the run waiting at its gate", async () => {
      const r = (await ui.store.flowRuns({ flowName: "on-dask" })).items[0];
      const waiting = r && (await ui.store.taskRuns({ flowRunId: r.id, state: "RUNNING" })).items.some((t) => t.taskName === "wait-for-file");
      return waiting ? r : undefined;
    }, 120_000);
    assert.match(run.dashboardLink ?? "", /^http:\/\/127\.0\.0\.1:\d+\/status$/);
    const page = await browser.context.newPage();
    await page.goto(`${ui.url}/runs/${run.id}`);
    await page.waitForSelector("canvas[data-drawn]");
    const link = page.locator("dd a", { hasText: "/status" });
    await link.waitFor();
    assert.equal(await link.getAttribute("href"), run.dashboardLink);
    assert.equal(await link.getAttribute("rel"), "noopener noreferrer");

    writeFileSync(gate, "");
    const final = await running;
    assert.equal(final.type, "COMPLETED");
    const workers = new Set((await ui.store.taskRuns({ flowRunId: run.id })).items.map((t) => t.worker));
    assert.equal(workers.size, 2, "the naps ran on both workers");
    await page.reload();
    await page.waitForSelector("canvas[data-drawn]");
    const lanes = await page.evaluate(async (id) => ((await (await fetch(`/api/runs/${id}/timeline`)).json()) as { lanes: string[] }).lanes, run.id);
    assert.deepEqual(new Set(lanes), workers, "one lane per worker");
    await page.waitForSelector("text=(cluster gone)");
  } finally {
    writeFileSync(gate, "");
    await running;
    rmSync(dir, { recursive: true, force: true });
  }
});
