/**
 * The UI in a real browser (Debian's chromium via playwright-core) over history recorded by real flows: the runs
 * list, a finished run's page, the log filters, markup in names shown as text, and a running flow's page updating
 * by itself.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchBrowser, type Browser } from "./browser.ts";
import { startUi, eventually, type UiHarness } from "./harness.ts";
import { etl, report, gated, crowd, EVIL } from "./flows.ts";
import type { FlowRunRecord } from "../../src/history/types.ts";

let ui: UiHarness, browser: Browser, etlRun: FlowRunRecord;

before(async () => {
  ui = await startUi();
  browser = await launchBrowser();
  await etl.returnState(10);
  await report();
  await report();
  // The recorder writes in batches off the hot path: wait until the runs are final in the store.
  etlRun = await eventually("the etl run recorded", async () => {
    const r = (await ui.store.flowRuns({ flowName: "etl" })).items[0];
    return r?.endTime !== undefined && (r.taskCounts.FAILED ?? 0) >= 1 ? r : undefined;
  });
  await eventually("both report runs recorded", async () => ((await ui.store.flowRuns({ flowName: "report", state: "COMPLETED" })).items.length === 2 ? true : undefined));
});

after(async () => {
  await browser?.close();
  await ui?.close();
});

async function open(path: string): Promise<Page & { dialogs: string[]; errors: string[] }> {
  const page = (await browser.context.newPage()) as Page & { dialogs: string[]; errors: string[] };
  page.dialogs = [];
  page.errors = [];
  page.on("dialog", (d) => {
    page.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("pageerror", (e) => page.errors.push(e.message));
  await page.goto(ui.url + path);
  return page;
}

test("the runs list shows each run's state, duration and task counts; filters and keyset pages", async () => {
  const page = await open("/");
  await page.waitForSelector("table.runs");
  const rows = page.locator("table.runs tbody tr");
  assert.equal(await rows.count(), 3);
  const etlRow = page.locator(`tr[data-run="${etlRun.id}"]`);
  assert.equal(await etlRow.locator(".badge").textContent(), etlRun.stateName);
  assert.match((await etlRow.textContent())!, /1 failed/);
  assert.match((await etlRow.textContent())!, new RegExp(`${etlRun.taskCounts.COMPLETED} completed`));

  await page.selectOption("select[name=flow]", "report");
  await page.waitForURL(/flow=report/);
  await page.waitForSelector("table.runs");
  assert.equal(await page.locator("table.runs tbody tr").count(), 2);
  assert.deepEqual(await page.locator("table.runs tbody tr td:nth-child(2)").allTextContents(), ["report", "report"]);

  // Keyset pages: one run a page, the next page by the cursor the store gave.
  await page.goto(`${ui.url}/?limit=1`);
  await page.waitForSelector("table.runs");
  const seen = [await page.locator("table.runs tbody tr").getAttribute("data-run")];
  for (let i = 0; i < 2; i++) {
    const shown = seen.at(-1)!;
    await page.click("text=Older »");
    await page.waitForFunction((prev) => { const r = document.querySelector("table.runs tbody tr"); return r && r.getAttribute("data-run") !== prev; }, shown);
    seen.push(await page.locator("table.runs tbody tr").getAttribute("data-run"));
  }
  assert.equal(new Set(seen).size, 3, "three pages, three different runs");
  assert.equal(await page.locator("text=Older »").count(), 0, "no page after the last");
  assert.deepEqual(page.errors, []);
});

test("a finished run's page: timeline drawn with its dependency links, task runs table, failure with its stack, logs, parameters", async () => {
  const page = await open(`/runs/${etlRun.id}`);
  await page.waitForSelector("canvas[data-drawn]");
  assert.equal(await page.locator("#run-name").textContent(), etlRun.name);
  assert.equal(await page.locator("#run-state").textContent(), etlRun.stateName);
  const tasks = await ui.store.taskRuns({ flowRunId: etlRun.id });
  assert.equal(await page.locator("canvas").getAttribute("data-bars"), String(tasks.items.filter((t) => t.startTime).length));
  // The bars are on the canvas: green for the completed ones, red for the failed one.
  const colours = await page.locator("canvas").evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    let green = 0, red = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] === 0x2f && d[i + 1] === 0x9e && d[i + 2] === 0x62) green++;
      if (d[i] === 0xd6 && d[i + 1] === 0x45 && d[i + 2] === 0x41) red++;
    }
    return { green, red };
  });
  assert.ok(colours.green > 0 && colours.red > 0, JSON.stringify(colours));

  assert.equal(await page.locator("table.tasks tbody tr[data-task]").count(), tasks.items.length);
  const flakyRow = page.locator("table.tasks tr", { hasText: "flaky" });
  assert.equal(await flakyRow.locator("td:nth-child(7)").textContent(), "2", "the retried task run shows its 2 attempts");
  const failure = page.locator(".failure", { hasText: "boom" });
  assert.match((await failure.locator("pre.stack").textContent())!, /TypeError: bad input for boom\n\s+at /);
  assert.match((await page.locator(".log-lines").textContent())!, /one task failed, as it should/);
  assert.equal(await page.locator("pre.params").textContent(), etlRun.parameters || "(none)");

  // Upstream links: "plus" was given the futures of square(1) and square(2).
  const wire = await page.evaluate(async (id) => (await (await fetch(`/api/runs/${id}/timeline`)).json()) as { names: string[]; up: number[][] }, etlRun.id);
  const plusAt = wire.names.findIndex((n) => n.startsWith("plus-"));
  const named = (i: number) => tasks.items.find((t) => t.name === wire.names[i]);
  assert.deepEqual(wire.up[plusAt]!.map((i) => named(i)?.id).sort(), [...named(plusAt)!.upstream].sort());
  assert.equal(wire.up[plusAt]!.length, 2);

  // Hover over a bar: its details as text.
  const box = (await page.locator("canvas").boundingBox())!;
  let tip = "";
  for (let x = box.x + 160; x < box.x + box.width && !tip; x += 6) {
    await page.mouse.move(x, box.y + 30);
    if (await page.locator(".tip").isVisible()) tip = (await page.locator(".tip").textContent()) ?? "";
  }
  assert.match(tip, /(completed|failed) on /);
  assert.deepEqual(page.errors, []);
});

test("logs: the lowest level shown and a search, answered by the store", async () => {
  const page = await open(`/runs/${etlRun.id}`);
  await page.waitForSelector(".log-lines .log");
  const levels = async () => new Set(await page.locator(".log-lines .log .log-level").allTextContents());
  await page.selectOption("select[aria-label='lowest log level']", "error");
  await page.waitForFunction(() => Array.from(document.querySelectorAll(".log-lines .log-level")).every((e) => e.textContent === "ERROR" || e.textContent === "CRITICAL"));
  assert.deepEqual(await levels(), new Set(["ERROR"]));
  await page.selectOption("select[aria-label='lowest log level']", "debug");
  await page.fill("input[aria-label='search logs']", "MARKUP");
  await page.waitForFunction(() => document.querySelectorAll(".log-lines .log").length === 1);
  assert.equal(await page.locator(".log-lines .log .log-msg").textContent(), `a message with markup ${EVIL}`);
  await page.fill("input[aria-label='search logs']", "no such words anywhere");
  await page.waitForSelector(".log-lines p.empty");

  // One task run's lines, from its row in the table.
  await page.fill("input[aria-label='search logs']", "");
  await page.locator("table.tasks tr", { hasText: "flaky" }).locator("button", { hasText: "logs" }).click();
  await page.waitForSelector(".chip:has-text('task run flaky')");
  await page.waitForFunction(() => document.querySelectorAll(".log-lines .log").length > 0 &&
    Array.from(document.querySelectorAll(".log-lines .log-msg")).every((e) => e.textContent.includes("first attempt fails")));
  await page.click("text=× all lines");
  await page.waitForFunction(() => Array.from(document.querySelectorAll(".log-lines .log-msg")).some((e) => e.textContent === "one task failed, as it should"));
});

test("a task named <img src=x onerror=alert(1)> shows as text and runs nothing", async () => {
  for (const path of [`/runs/${etlRun.id}`, "/"]) {
    const page = await open(path);
    await page.waitForLoadState("networkidle");
    assert.equal(await page.locator("img").count(), 0, `no <img> element on ${path}`);
    if (path !== "/") {
      // Task run names are the task's name and a suffix: "<img src=x onerror=alert(1)>-3f2".
      assert.match((await page.locator("table.tasks td.name", { hasText: EVIL }).textContent())!, /^<img src=x onerror=alert\(1\)>-\w+$/);
      assert.ok(await page.locator(".log-msg", { hasText: EVIL }).count());
    }
    assert.deepEqual(page.dialogs, [], "no alert fired");
  }
});

test("a running flow's page updates by itself as its task runs change; the runs list shows the new run", async () => {
  const list = await open("/");
  await list.waitForSelector("table.runs");
  const { run, release } = gated();
  try {
    await list.waitForFunction(() => Array.from(document.querySelectorAll("table.runs tbody tr")).some((r) => r.textContent.includes("live") && r.textContent.includes("Running")), undefined, { timeout: 8000 });
    await list.close();
    const live = await eventually("the live run recorded with its task running", async () => {
      const r = (await ui.store.flowRuns({ flowName: "live", state: "RUNNING" })).items[0];
      const t = r && (await ui.store.taskRuns({ flowRunId: r.id, state: "RUNNING" })).items[0];
      return t ? r : undefined;
    });
    const page = await open(`/runs/${live.id}`);
    await page.waitForSelector("canvas[data-drawn]");
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    assert.equal(await page.locator("#run-state").textContent(), "Running");
    assert.equal(await page.locator("table.tasks tr[data-task] td.state").textContent(), "Running");
    release();
    await run;
    // No reload: the marker set on this document survives, and the states arrive by server-sent events.
    await page.waitForFunction(() => document.querySelector("#run-state")?.textContent === "Completed", undefined, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelector("table.tasks tr[data-task] td.state")?.textContent === "Completed", undefined, { timeout: 5000 });
    await page.waitForFunction(() => Array.from(document.querySelectorAll(".log-msg")).some((e) => e.textContent === "through the gate"), undefined, { timeout: 5000 });
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1);
    await page.close();
    await eventually("polling stops once no page listens", async () => (ui.live.watching === 0 ? true : undefined), 5000);
  } finally {
    release();
    await run;
  }
});

test("a crowded timeline is drawn as counts per pixel column; the wheel and a shift-drag zoom in to single bars", async () => {
  await crowd(6000);
  const run = await eventually("the crowd run recorded", async () => {
    const r = (await ui.store.flowRuns({ flowName: "crowd" })).items[0];
    return r?.endTime !== undefined && r.taskCounts.COMPLETED === 6000 ? r : undefined;
  }, 60_000);
  const page = await open(`/runs/${run.id}`);
  await page.waitForSelector("canvas[data-drawn]");
  const canvas = page.locator("canvas");
  assert.equal(await canvas.getAttribute("data-mode"), "aggregated");
  assert.equal(await canvas.getAttribute("data-bars"), "6000");
  assert.match((await page.locator(".timeline-note").textContent())!, /6000 in view, drawn as counts per pixel column/);
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + 40);
  for (let i = 0; i < 40 && (await canvas.getAttribute("data-mode")) === "aggregated"; i++) {
    await page.mouse.wheel(0, -300);
    await page.waitForTimeout(50);
  }
  assert.equal(await canvas.getAttribute("data-mode"), "bars");
  const shown = Number(await canvas.getAttribute("data-bars"));
  assert.ok(shown > 0 && shown <= 3000, `zoomed in to ${shown} bars`);

  // Double-click resets to the whole run; shift-drag over a narrow range zooms into it.
  await page.mouse.dblclick(box.x + box.width * 0.5, box.y + 40);
  await page.waitForFunction(() => document.querySelector("canvas")?.dataset.mode === "aggregated");
  await page.keyboard.down("Shift");
  await page.mouse.move(box.x + box.width * 0.5, box.y + 40);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.51, box.y + 40, { steps: 3 });
  await page.mouse.up();
  await page.keyboard.up("Shift");
  await page.waitForFunction(() => document.querySelector("canvas")?.dataset.mode === "bars");
  assert.deepEqual(page.errors, []);
});
