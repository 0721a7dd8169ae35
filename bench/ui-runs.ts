/**
 * The runs list with 10,000 flow runs stored, beside a store of 100 (the baseline): the server's answer time per
 * page of 50 (first page, pages further on by cursor, filtered by flow, by state, by time), and the list page in
 * Debian's chromium until its table shows. Goal: < 200 ms per page at 10,000.
 *   bash scripts/node.sh node --import tsx bench/ui-runs.ts [runs=10000] [rounds=20]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { openHistory } from "../src/history/index.ts";
import { createUiServer } from "../src/ui/server.ts";
import { launchBrowser } from "../test/ui/browser.ts";
import { flowRun } from "./ui-seed.ts";
import type { FlowRunRecord, Page } from "../src/history/types.ts";

const N = Number(process.argv[2] ?? 10_000), ROUNDS = Number(process.argv[3] ?? 20);
const dir = mkdtempSync(join(tmpdir(), "daskflow-bench-runs-"));
const browser = await launchBrowser();
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
try {
  for (const n of [100, N]) {
    const store = await openHistory({ url: join(dir, `history-${n}.db`) });
    const { server } = createUiServer({ host: "127.0.0.1", port: 0, store: async () => store });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const t0 = Date.now() - n * 1000;
    for (let from = 0; from < n; from += 2000) await store.write({ flowRuns: Array.from({ length: Math.min(2000, n - from) }, (_, i) => flowRun(from + i, t0)) });
    const time = async (path: string) => {
      const t = performance.now();
      const page = (await (await fetch(base + path)).json()) as Page<FlowRunRecord>;
      return { ms: performance.now() - t, page };
    };
    const cases: Record<string, number[]> = { "first page": [], "page 20 (by cursor)": [], "flow=flow-3": [], "state=FAILED": [], "since=2h": [] };
    let cursor20 = "";
    { // the cursor of page 20, walking there as a user would
      let c: string | undefined;
      for (let i = 0; i < 19; i++) c = (await time(`/api/runs${c ? `?cursor=${encodeURIComponent(c)}` : ""}`)).page.nextCursor ?? c;
      cursor20 = c ?? "";
    }
    for (let r = 0; r < ROUNDS; r++) {
      cases["first page"]!.push((await time("/api/runs")).ms);
      cases["page 20 (by cursor)"]!.push((await time(`/api/runs?cursor=${encodeURIComponent(cursor20)}`)).ms);
      cases["flow=flow-3"]!.push((await time("/api/runs?flow=flow-3")).ms);
      cases["state=FAILED"]!.push((await time("/api/runs?state=FAILED")).ms);
      cases["since=2h"]!.push((await time("/api/runs?since=2h")).ms);
    }
    const loads: number[] = [];
    for (let r = 0; r < 5; r++) {
      const page = await browser.context.newPage();
      const t = performance.now();
      await page.goto(`${base}/`);
      await page.waitForSelector("table.runs tbody tr");
      loads.push(performance.now() - t);
      await page.close();
    }
    console.log(`${n} flow runs stored (median / p95 of ${ROUNDS} requests, pages of 50):`);
    for (const [name, xs] of Object.entries(cases)) console.log(`  ${name}: ${q(xs, 0.5).toFixed(1)} / ${q(xs, 0.95).toFixed(1)} ms`);
    console.log(`  list page in chromium until the table shows: median ${q(loads, 0.5).toFixed(0)} ms of 5`);
    server.closeAllConnections();
    server.close();
    await store.close();
  }
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
