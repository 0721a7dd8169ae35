/**
 * The UI over a PostgreSQL history (a real server the test starts, as test/history does): a flow recorded there,
 * its run listed and its page drawn, through the same server code as SQLite.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startPostgres } from "../history/postgres.ts";
import { launchBrowser } from "./browser.ts";
import { startUi, eventually } from "./harness.ts";
import { etl } from "./flows.ts";

test("PostgreSQL history: the runs list and a run's page with its timeline, table, failure and logs", async () => {
  const server = await startPostgres();
  try {
    await using ui = await startUi(server.url());
    await using browser = await launchBrowser();
    await etl.returnState(4);
    const run = await eventually("the run recorded in PostgreSQL", async () => {
      const r = (await ui.store.flowRuns({ flowName: "etl" })).items[0];
      return r?.endTime !== undefined ? r : undefined;
    });
    const page = await browser.context.newPage();
    await page.goto(ui.url);
    await page.waitForSelector(`tr[data-run="${run.id}"]`);
    await page.click(`tr[data-run="${run.id}"] a`);
    await page.waitForSelector("canvas[data-drawn]");
    const tasks = await ui.store.taskRuns({ flowRunId: run.id });
    assert.equal(await page.locator("canvas").getAttribute("data-bars"), String(tasks.items.filter((t) => t.startTime).length));
    assert.equal(await page.locator("table.tasks tbody tr[data-task]").count(), tasks.items.length);
    assert.match((await page.locator(".failure pre.stack").textContent())!, /TypeError: bad input for boom/);
    await page.waitForSelector(".log-msg:has-text('one task failed, as it should')");
  } finally {
    server.stop();
  }
});
