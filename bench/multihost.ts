/**
 * Throughput across hosts: 2,000 trivial tasks through daskflow vs raw `client.map` + `gather`, on the same
 * two-namespace cluster (test/multihost/: a `dask scheduler` on the flow side's veth address, one single-thread
 * `dask worker` in each of two network + mount namespaces that cannot see this repository, so daskflow ships its
 * code). Rounds alternate raw, daskflow, raw, ... to spread the machine's noise. Needs root (namespaces).
 *
 *   bash bench/run.sh multihost            # or: BENCH_ROUNDS=5 BENCH_TASKS=2000 npx tsx bench/multihost.ts
 *
 * Figures: throughput ratio daskflow/raw = raw seconds / daskflow seconds           goal: >= 0.85 (as on one host)
 *          CPU-cost ratio raw/daskflow: CPU seconds of every process of each side (client side, scheduler, workers,
 *          sidecars) in the same timed window: steadier than wall time on a loaded machine
 * Each daskflow round is a new flow run (bridge, worker plugin, shipping, sidecars), warmed up before timing,
 * as the raw side's new Client is.
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { flow } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { MultiHostCluster } from "../test/multihost/cluster.ts";
import { netnsUnavailable } from "../test/multihost/netns.ts";
import { inc } from "./dask-tasks.ts";
import { best, cpuOf, median } from "./stats.ts";
import { runJsonChild } from "./child.ts";

process.env.DASKFLOW_LOGGING_LEVEL ??= "WARNING";
const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.DASKFLOW_PYTHON ?? join(HERE, "..", ".venv", "bin", "python");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = Number(process.env.BENCH_TASKS ?? 2000);
const WARMUP = 20;

/** This process's own CPU seconds plus its bridge child's (the daskflow side's client). */
function flowSideCpu(): number {
  const own = process.cpuUsage();
  const bridges: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("daskflow_bridge")) bridges.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return (own.user + own.system) / 1e6 + cpuOf(bridges);
}

let clusterCpu: () => number = () => 0;

const work = (address: string) =>
  flow({ name: "bench-multihost", taskRunner: new DaskTaskRunner({ address }) }, async (n: number) => {
    // Warm-up: bridge, plugin, shipped code, and every sidecar has imported dask-tasks.ts.
    for (let r = 0; r < 2; r++) {
      const values = await Promise.all(Array.from({ length: WARMUP }, (_, i) => inc.submit(i)).map((f) => f.result()));
      if (values.some((v, i) => v !== i + 1)) throw new Error("wrong warm-up result");
    }
    const cpu = { flow: flowSideCpu(), cluster: clusterCpu() };
    const t = performance.now();
    const futures = [];
    for (let i = 0; i < n; i++) futures.push(inc.submit(i));
    const values = await Promise.all(futures.map((f) => f.result()));
    const elapsed = (performance.now() - t) / 1000;
    const used = { flow: flowSideCpu() - cpu.flow, cluster: clusterCpu() - cpu.cluster };
    if (values.reduce((a, b) => a + b, 0) !== (n * (n + 1)) / 2) throw new Error("wrong sum from daskflow");
    return { elapsed, cpu: used.flow + used.cluster };
  });

const skip = netnsUnavailable();
if (skip) {
  console.log(`multihost benchmark skipped: ${skip}`);
  process.exit(0);
}
const cluster = await MultiHostCluster.start({ hosts: 2, nthreads: 1 });
// The shared cluster: the scheduler and the workers with their sidecars.
clusterCpu = () => cpuOf(cluster.network.pids());
try {
  console.log(`daskflow vs raw Dask across two namespace hosts (${cluster.workers.map((w) => w.address).join(", ")}; scheduler ${cluster.address}): ${N} trivial tasks, ${ROUNDS} alternating rounds per side`);
  const raw: number[] = [];
  const df: number[] = [];
  const rawCpu: number[] = [];
  const dfCpu: number[] = [];
  const flowOnCluster = work(cluster.address);
  for (let r = 0; r < ROUNDS; r++) {
    let windowStart = 0;
    let window = 0;
    const lines = await runJsonChild<{ event?: string; throughput_s: number; cpu_client_s: number; workers: string[] }>(
      PYTHON,
      [join(HERE, "multihost_raw.py"), cluster.address, String(N)],
      {
        onLine: (line) => {
          if (line.event === "start") windowStart = clusterCpu();
          if (line.event === "end") window = clusterCpu() - windowStart;
        },
      },
    );
    const a = lines.find((l) => l.event === undefined)!;
    raw.push(a.throughput_s);
    rawCpu.push(a.cpu_client_s + window);
    const b = await flowOnCluster(N);
    df.push(b.elapsed);
    dfCpu.push(b.cpu);
    console.log(
      `  round ${r + 1}: raw ${a.throughput_s.toFixed(2)} s, ${(a.cpu_client_s + window).toFixed(2)} CPU s (on ${a.workers.length} workers); daskflow ${b.elapsed.toFixed(2)} s, ${b.cpu.toFixed(2)} CPU s`,
    );
  }
  const ratio = median(raw) / median(df);
  console.log(`  throughput raw      : ${Math.round(N / median(raw))} tasks/s [${Math.round(N / best(raw))}]`);
  console.log(`  throughput daskflow : ${Math.round(N / median(df))} tasks/s [${Math.round(N / best(df))}]`);
  console.log(
    `multihost throughput ratio daskflow/raw: ${ratio.toFixed(2)} (goal >= 0.85, ${ratio >= 0.85 ? "goal met" : "GOAL MISSED"}; best-of ratio ${(best(raw) / best(df)).toFixed(2)})`,
  );
  console.log(`multihost CPU-cost ratio raw/daskflow: ${(median(rawCpu) / median(dfCpu)).toFixed(2)} (${median(dfCpu).toFixed(2)} vs ${median(rawCpu).toFixed(2)} CPU s for ${N} tasks, all processes)`);
} finally {
  await cluster.stop();
}
