/**
 * How soon a live run page shows a state change: a real in-process flow's task waits at a gate while its page is
 * open in chromium; the gate opens and the page's own clock notes when the run shows "Completed" (recorder batch,
 * then the server's poll, then server-sent events). Goal: within a second. Beside it, for scale, the same change
 * seen by reading the store directly in a loop.
 *   bash scripts/node.sh node --import tsx bench/ui-live.ts [rounds=5]
 */
import { launchBrowser } from "../test/ui/browser.ts";
import { startUi, eventually } from "../test/ui/harness.ts";
import { gated } from "../test/ui/flows.ts";

const ROUNDS = Number(process.argv[2] ?? 5);
await using ui = await startUi();
await using browser = await launchBrowser();
const page: number[] = [], store: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const { run, release } = gated();
  const live = await eventually("a live run", async () => {
    const x = (await ui.store.flowRuns({ flowName: "live", state: "RUNNING" })).items[0];
    return x && (await ui.store.taskRuns({ flowRunId: x.id, state: "RUNNING" })).items.length ? x : undefined;
  });
  const tab = await browser.context.newPage();
  await tab.goto(`${ui.url}/runs/${live.id}`);
  await tab.waitForSelector("canvas[data-drawn]");
  await tab.evaluate(() => {
    new MutationObserver(() => {
      if (document.querySelector("#run-state")?.textContent === "Completed" && !document.body.dataset.completedAt) document.body.dataset.completedAt = String(Date.now());
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await new Promise((r) => setTimeout(r, 600)); // the page is listening
  const opened = Date.now();
  release();
  await run;
  await eventually("the store has it", async () => ((await ui.store.flowRun(live.id))?.state === "COMPLETED" ? true : undefined), 10_000);
  store.push(Date.now() - opened);
  await tab.waitForFunction(() => document.body.dataset.completedAt, undefined, { timeout: 10_000 });
  page.push(Number(await tab.evaluate(() => document.body.dataset.completedAt)) - opened);
  await tab.close();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`gate opened -> run "Completed" on the open page: median ${median(page)} ms, max ${Math.max(...page)} ms (${page.join(", ")})`);
console.log(`gate opened -> run COMPLETED in the store (read in a 100 ms loop): median ${median(store)} ms (${store.join(", ")})`);
