/**
 * Batched map: N tiny items through `inc.map(items)` (automatic batches) and `inc.with({ batchSize }).map(items)`,
 * one future and one state per item, against raw Python `client.map(inc, items)` (one Dask task per item), on the
 * same LocalCluster shape, side by side (goal: >= 10x raw item throughput for 100,000 items).
 *   npx tsx bench/batch.ts [N]
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { flow } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { inc } from "./dask-tasks.ts";

process.env.DASKFLOW_LOGGING_LEVEL = "WARNING";
const N = Number(process.argv[2] ?? 100_000);
const clusterKwargs = { n_workers: 2, threads_per_worker: 1, processes: true, host: "127.0.0.1", dashboard_address: "127.0.0.1:0" };
const python = join(import.meta.dirname, "..", ".venv", "bin", "python");

const RAW = `
import json, sys, time
from distributed import Client, LocalCluster
def inc(x):
    return x + 1
n = int(sys.argv[2])
with LocalCluster(**json.loads(sys.argv[1])) as cluster, Client(cluster) as client:
    assert client.gather(client.map(inc, range(20), pure=False)) == list(range(1, 21))
    t = time.perf_counter()
    results = client.gather(client.map(inc, range(n), pure=False))
    elapsed = time.perf_counter() - t
    assert sum(results) == n * (n + 1) // 2
    print(json.dumps({"seconds": elapsed}))
`;

function raw(): number {
  const out = execFileSync(python, ["-c", RAW, JSON.stringify(clusterKwargs), String(N)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return (JSON.parse(out.trim().split("\n").pop()!) as { seconds: number }).seconds;
}

const daskflowSide = flow({ name: "bench-batch", taskRunner: new DaskTaskRunner({ clusterKwargs }) }, async () => {
  const items = Array.from({ length: N }, (_, i) => i);
  await Promise.all(inc.map(items.slice(0, 20)).map((f) => f.result())); // warm-up: cluster and sidecars up
  const timings: Record<string, number> = {};
  for (const [label, call] of [["auto", {}], ["batchSize 1000", { batchSize: 1000 }]] as const) {
    const t = performance.now();
    const futures = inc.with(call).map(items);
    let sum = 0;
    for (const f of futures) sum += await f.result();
    timings[label] = (performance.now() - t) / 1000;
    if (sum !== (N * (N + 1)) / 2) throw new Error(`wrong sum ${sum}`);
  }
  return timings;
});

const rawSeconds = raw();
const ours = await daskflowSide();
const rate = (s: number) => Math.round(N / s).toLocaleString("en");
console.log(`items: ${N}; cluster ${JSON.stringify(clusterKwargs)}; flow process RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
console.log(`raw client.map (one Dask task per item): ${rawSeconds.toFixed(2)} s, ${rate(rawSeconds)} items/s`);
for (const [label, seconds] of Object.entries(ours)) {
  console.log(`daskflow map, ${label}: ${seconds.toFixed(2)} s, ${rate(seconds)} items/s`);
}
const best = Math.min(...Object.values(ours));
console.log(`batched map item throughput ratio daskflow/raw: ${(rawSeconds / best).toFixed(1)}x (goal >= 10x)`);
