/**
 * The run page over a flow run of 100,000 task runs, beside one of 100 (the baseline), in Debian's chromium:
 * first contentful paint, the run's summary shown, and the timeline drawn (ms after navigation start), plus the
 * timeline endpoint's server time and size. Goals: summary < 1 s, timeline < 2 s at 100,000.
 *   bash scripts/node.sh node --import tsx bench/ui-page.ts [taskRuns=100000] [rounds=5]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { openHistory } from "../src/history/index.ts";
import { createUiServer } from "../src/ui/server.ts";
import { timeline } from "../src/ui/timeline.ts";
import { launchBrowser } from "../test/ui/browser.ts";
import { seedBigRun } from "./ui-seed.ts";

const N = Number(process.argv[2] ?? 100_000), ROUNDS = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), "daskflow-bench-ui-"));
const store = await openHistory({ url: join(dir, "history.db") });
const { server } = createUiServer({ host: "127.0.0.1", port: 0, store: async () => store });
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const browser = await launchBrowser();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  let t = performance.now();
  await seedBigRun(store, "small", 100);
  await seedBigRun(store, "big", N);
  console.log(`seeded ${N} + 100 task runs through store.write in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const rows: string[] = [];
  for (const [label, id] of [["100 task runs (baseline)", "small"], [`${N} task runs`, "big"]] as const) {
    // The store's read of the timeline, uncached (the server keeps the last few final runs' timelines serialized).
    const read: number[] = [];
    let bytes = 0;
    const run = (await store.flowRun(id))!;
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      bytes = JSON.stringify(await timeline(store, run)).length;
      read.push(performance.now() - t);
    }
    const fcp: number[] = [], summary: number[] = [], drawn: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const page = await browser.context.newPage();
      await page.goto(`${base}/runs/${id}`);
      await page.waitForSelector("canvas[data-drawn]", { timeout: 60_000 });
      const m = await page.evaluate(() => ({
        fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN,
        summary: Number(document.body.dataset.summary),
        drawn: Number(document.querySelector("canvas")!.dataset.drawn),
      }));
      fcp.push(m.fcp);
      summary.push(m.summary);
      drawn.push(m.drawn);
      await page.close();
    }
    const f = (xs: number[]) => `${xs[0]!.toFixed(0)} ms cold, ${median(xs.slice(1)).toFixed(0)} ms warm`;
    rows.push(`${label}: first contentful paint ${f(fcp)}; summary shown ${f(summary)}; timeline drawn ${f(drawn)}; ` +
      `store read + serialize of the timeline ${median(read).toFixed(1)} ms, ${(bytes / 1e3).toFixed(0)} kB`);
  }
  console.log(`cold = the first load (assets and the server's timeline cache empty); warm = median of the ${ROUNDS - 1} after:`);
  for (const r of rows) console.log(`  ${r}`);
} finally {
  await browser.close();
  server.closeAllConnections();
  server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
