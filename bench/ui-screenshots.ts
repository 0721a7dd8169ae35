/**
 * The README's and docs/ui.md's screenshots, from real runs: an ETL-like flow on a Dask LocalCluster (2 workers,
 * 2 threads each; a failing record, a retried upload) and two small in-process runs, recorded into a throwaway
 * history, shown by the UI in headless chromium.
 *   bash scripts/node.sh node --import tsx bench/ui-screenshots.ts   (writes docs/ui-runs.png, docs/ui-run.png)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { flow, getRunLogger } from "../src/index.ts";
import { DaskTaskRunner } from "../src/dask/index.ts";
import { launchBrowser } from "../test/ui/browser.ts";
import { startUi, eventually } from "../test/ui/harness.ts";
import { etl, report } from "../test/ui/flows.ts";
import { nap, parse, upload } from "../test/ui/dask-tasks.ts";

const DOCS = resolve(import.meta.dirname, "..", "docs");
const dir = mkdtempSync(join(tmpdir(), "daskflow-shots-"));
await using ui = await startUi();
await using browser = await launchBrowser();
try {
  await report();
  await etl.returnState(20);
  const broken = flow({ name: "nightly-export" }, async () => {
    throw new Error("bucket s3://exports is not writable");
  });
  await broken.returnState();
  const ingest = flow({ name: "ingest-orders", taskRunner: new DaskTaskRunner({ clusterKwargs: { nWorkers: 2, threadsPerWorker: 2 } }) }, async (day: string) => {
    const log = getRunLogger();
    log.info(`ingesting orders of ${day}`);
    const records = parse.map([...Array.from({ length: 40 }, (_, i) => i), -7, ...Array.from({ length: 30 }, (_, i) => 40 + i)]);
    await Promise.all(records.map((r) => r.wait()));
    log.warning("1 record rejected; continuing with the rest");
    const up = upload.submit(join(dir, "upload-marker"));
    const tail = nap.with({ waitFor: [up] }).map(Array.from({ length: 16 }, (_, i) => 60 + (i % 4) * 40));
    await Promise.all([up, ...tail].map((f) => f.wait()));
    log.info("done");
  });
  await ingest.returnState("2026-12-05");
  await report();
  const run = await eventually("the Dask run recorded", async () => {
    const r = (await ui.store.flowRuns({ flowName: "ingest-orders" })).items[0];
    return r?.endTime ? r : undefined;
  });
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 560 });
  await page.goto(`${ui.url}/`);
  await page.waitForSelector("table.runs");
  await page.screenshot({ path: join(DOCS, "ui-runs.png") });
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.goto(`${ui.url}/runs/${run.id}`);
  await page.waitForSelector("canvas[data-drawn]");
  const box = (await page.locator("canvas").boundingBox())!;
  // Hover the retried upload, so the screenshot shows a tooltip and the lines to the task runs that waited for it.
  search: for (let y = box.y + 26; y < box.y + box.height; y += 7) {
    for (let x = box.x + box.width * 0.5; x < box.x + box.width; x += 8) {
      await page.mouse.move(x, y);
      if (((await page.locator(".tip-title").textContent({ timeout: 100 }).catch(() => "")) ?? "").startsWith("upload")) break search;
    }
  }
  await page.screenshot({ path: join(DOCS, "ui-run.png") });
  console.log(`wrote ${join(DOCS, "ui-runs.png")} and ${join(DOCS, "ui-run.png")}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
