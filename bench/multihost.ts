/**
 * Throughput across hosts: 2,000 trivial tasks through daskflow vs raw `client.map` + `gather`, on the same
 * two-namespace cluster (test/multihost/: a `dask scheduler` on the flow side's veth address, one single-thread
 * `dask worker` in each of two network + mount namespaces that cannot see this repository, so daskflow ships its
 * code). Rounds alternate raw, daskflow, raw, ... to spread the machine's noise. Needs root (namespaces).
 *
 *   bash bench/run.sh multihost            # or: BENCH_ROUNDS=5 BENCH_TASKS=2000 npx tsx bench/multihost.ts
 *
 * Figure: throughput ratio daskflow/raw = raw seconds / daskflow seconds            goal: >= 0.85 (as on one host)
 * Each daskflow round is a new flow run (bridge, worker plugin, shipping, sidecars), warmed up before timing,
 * as the raw side's new Client is.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { flow } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { MultiHostCluster } from "../test/multihost/cluster.ts";
import { netnsUnavailable } from "../test/multihost/netns.ts";
import { inc } from "./dask-tasks.ts";
import { best, median } from "./stats.ts";
import { runJsonChild } from "./child.ts";

process.env.DASKFLOW_LOGGING_LEVEL ??= "WARNING";
const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.DASKFLOW_PYTHON ?? join(HERE, "..", ".venv", "bin", "python");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = Number(process.env.BENCH_TASKS ?? 2000);
const WARMUP = 20;

const work = (address: string) =>
  flow({ name: "bench-multihost", taskRunner: new DaskTaskRunner({ address }) }, async (n: number) => {
    // Warm-up: bridge, plugin, shipped code, and every sidecar has imported dask-tasks.ts.
    for (let r = 0; r < 2; r++) {
      const values = await Promise.all(Array.from({ length: WARMUP }, (_, i) => inc.submit(i)).map((f) => f.result()));
      if (values.some((v, i) => v !== i + 1)) throw new Error("wrong warm-up result");
    }
    const t = performance.now();
    const futures = [];
    for (let i = 0; i < n; i++) futures.push(inc.submit(i));
    const values = await Promise.all(futures.map((f) => f.result()));
    const elapsed = (performance.now() - t) / 1000;
    if (values.reduce((a, b) => a + b, 0) !== (n * (n + 1)) / 2) throw new Error("wrong sum from daskflow");
    return elapsed;
  });

const skip = netnsUnavailable();
if (skip) {
  console.log(`multihost benchmark skipped: ${skip}`);
  process.exit(0);
}
const cluster = await MultiHostCluster.start({ hosts: 2, nthreads: 1 });
try {
  console.log(`daskflow vs raw Dask across two namespace hosts (${cluster.workers.map((w) => w.address).join(", ")}; scheduler ${cluster.address}): ${N} trivial tasks, ${ROUNDS} alternating rounds per side`);
  const raw: number[] = [];
  const df: number[] = [];
  const flowOnCluster = work(cluster.address);
  for (let r = 0; r < ROUNDS; r++) {
    const [a] = await runJsonChild<{ throughput_s: number; workers: string[] }>(PYTHON, [join(HERE, "multihost_raw.py"), cluster.address, String(N)]);
    raw.push(a!.throughput_s);
    const b = await flowOnCluster(N);
    df.push(b);
    console.log(`  round ${r + 1}: raw ${a!.throughput_s.toFixed(2)} s (on ${a!.workers.length} workers), daskflow ${b.toFixed(2)} s`);
  }
  const ratio = median(raw) / median(df);
  console.log(`  throughput raw      : ${Math.round(N / median(raw))} tasks/s [${Math.round(N / best(raw))}]`);
  console.log(`  throughput daskflow : ${Math.round(N / median(df))} tasks/s [${Math.round(N / best(df))}]`);
  console.log(
    `multihost throughput ratio daskflow/raw: ${ratio.toFixed(2)} (goal >= 0.85, ${ratio >= 0.85 ? "goal met" : "GOAL MISSED"}; best-of ratio ${(best(raw) / best(df)).toFixed(2)})`,
  );
} finally {
  await cluster.stop();
}
