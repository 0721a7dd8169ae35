/**
 * Durable runs (docs/durable-runs.md), side by side in one run:
 *   cache       2,000 tasks of a cached task on a warm LocalCluster (2 workers): computing them (their workers write
 *               the results) vs the same 2,000 again, all cache hits (one batched lookup, values read back)
 *                                                                            goal: hits >= 10x faster than computing
 *   resume      a 50-link chain fails at link 40; resumed, how many links run again         goal: 11 (links 40-50)
 * Throughput with the defaults (a LocalCluster run persists its results) is `bash bench/run.sh dask`.
 *   npx tsx bench/durable.ts        (BENCH_ROUNDS, BENCH_TASKS)
 * The machine is shared and small: figures are noisy; read the ratio, not the absolute times.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TaskFuture, flow } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { cachedSquare, link } from "./durable-tasks.ts";
import { median } from "./stats.ts";

process.env.DASKFLOW_LOGGING_LEVEL ??= "WARNING";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = Number(process.env.BENCH_TASKS ?? 2000);
const storage = mkdtempSync(join(tmpdir(), "daskflow-bench-durable-"));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const records = () => readdirSync(storage).filter((f) => f.endsWith(".dfr")).length;

async function phase(xs: number[]): Promise<{ seconds: number; cached: number }> {
  const t = performance.now();
  const futures = cachedSquare.map(xs);
  const values = await Promise.all(futures.map((f) => f.result()));
  if (values.some((v, i) => v.sq !== xs[i]! * xs[i]!)) throw new Error("wrong value");
  return { seconds: (performance.now() - t) / 1000, cached: futures.filter((f) => f.state.name === "Cached").length };
}

const cacheFlow = flow(
  { name: "bench-durable-cache", resultStorage: storage, taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 2, threads_per_worker: 1 } }) },
  async () => {
    await phase(Array.from({ length: 50 }, (_, i) => -1 - i)); // warm-up: cluster, sidecars, module import
    const computed: number[] = [];
    const hits: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const xs = Array.from({ length: N }, (_, i) => r * N + i); // new inputs each round: computed first
      const before = records();
      const a = await phase(xs);
      // The workers write off the task's path: wait until every record is there (not timed).
      for (let i = 0; i < 600 && records() < before + N; i++) await sleep(50);
      const b = await phase(xs);
      console.log(`  round ${r + 1}: computing ${a.seconds.toFixed(2)} s (${a.cached} cached), all hits ${b.seconds.toFixed(2)} s (${b.cached} cached)`);
      if (b.cached !== N) throw new Error(`expected ${N} hits, got ${b.cached}`);
      computed.push(a.seconds);
      hits.push(b.seconds);
    }
    return { computed, hits };
  },
);

const chainLinks: TaskFuture<number>[] = [];
const chain = flow({ name: "bench-durable-chain", resultStorage: storage, persistResult: true }, async (n: number, failAt: number, flag: string) => {
  chainLinks.length = 0;
  let prev: number | TaskFuture<number> = 0;
  for (let i = 1; i <= n; i++) chainLinks.push((prev = link.submit(prev, i, failAt, flag)));
  return prev;
});

try {
  console.log(`durable runs: ${N} cached tasks, ${ROUNDS} rounds (2 workers, 1 thread each); figures are noisy on a shared machine`);
  const { computed, hits } = await cacheFlow();
  const ratio = median(computed) / median(hits);
  console.log(`medians: computing ${median(computed).toFixed(2)} s, all cache hits ${median(hits).toFixed(2)} s`);
  console.log(`cache hits vs computing: ${ratio.toFixed(1)}x faster (goal >= 10x, ${ratio >= 10 ? "goal met" : "GOAL MISSED"})`);

  const flag = join(storage, "fail");
  writeFileSync(flag, "");
  const failed = await chain.returnState(50, 40, flag);
  rmSync(flag);
  const value = await chain.resume("last");
  const rerun = chainLinks.filter((f) => f.state.name !== "Cached").length;
  console.log(`resume: first run ${failed.type} at link 40; resumed run = ${String(value)} (expected ${(50 * 51) / 2}), links run again: ${rerun} (goal 11: links 40-50, ${rerun === 11 ? "goal met" : "GOAL MISSED"})`);
} finally {
  if (existsSync(storage)) rmSync(storage, { recursive: true, force: true });
}
