/**
 * Groupby-aggregate over generated rows: daskflow's DataFrame (a plan built in TypeScript, evaluated by
 * dask.dataframe in the bridge) against the same dask.dataframe code in Python, on the same cluster shape, reading the
 * same Parquet dataset. Blocks alternate (TS, Python, TS, Python, ...), each a fresh cluster, warm-up round first.
 *   npx tsx bench/dataframe-groupby.ts [millionRows=5] [rounds=3] [workers=2] [partitions=20] [blocks=2]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow } from "daskflow";
import { DataFrame, DaskTaskRunner, getDaskClient } from "daskflow/dask";
import { onInterrupt, runJsonChild } from "./child.ts";
import { median } from "./stats.ts";

const [millions = "5", roundsArg = "3", workersArg = "2", partitionsArg = "20", blocksArg = "2"] = process.argv.slice(2);
const rows = Math.round(Number(millions) * 1_000_000);
const [rounds, workers, partitions, blocks] = [roundsArg, workersArg, partitionsArg, blocksArg].map(Number) as [number, number, number, number];
const python = join(".venv", "bin", "python");

const dir = mkdtempSync(join(tmpdir(), "daskflow-df-groupby-"));
onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
try {
  await runJsonChild(python, ["bench/dataframe_side.py", "gen", dir, String(rows), String(partitions)]);
  console.log(`data: ${rows.toLocaleString()} rows in ${partitions} Parquet files; cluster: ${workers} workers x 1 thread (processes)`);
  console.log("work: read_parquet -> groupby(key).agg(sum, mean, count) -> 1,000 rows back, keys as columns");

  const tsSide = flow({ name: "df-groupby", taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: workers, threads_per_worker: 1 } }) }, async () => {
    await using client = await getDaskClient();
    const query = () => DataFrame.readParquet(dir).groupBy("key").agg({ total: ["value", "sum"], avg: ["value", "mean"], n: ["qty", "count"] });
    const seconds: number[] = [];
    let result: { key: unknown; n: number }[] = [];
    for (let i = 0; i <= rounds; i++) {
      const t0 = performance.now();
      result = await query().compute({ client });
      if (i) seconds.push((performance.now() - t0) / 1000);
    }
    return { seconds, groups: result.length, n: result.reduce((a, r) => a + r.n, 0) };
  });

  const ts: number[] = [];
  const py: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const t = await tsSide();
    const [p] = await runJsonChild<{ seconds: number[]; groups: number; n: number }>(python, ["bench/dataframe_side.py", "groupby", dir, String(rounds), String(workers)]);
    if (t.groups !== p!.groups || t.n !== p!.n || t.n !== rows) throw new Error(`results differ: TS ${t.groups} groups / ${t.n} rows, Python ${p!.groups} / ${p!.n}`);
    ts.push(...t.seconds);
    py.push(...p!.seconds);
    console.log(`block ${b + 1}: DataFrame ${t.seconds.map((s) => s.toFixed(2)).join(" ")} s | dask.dataframe ${p!.seconds.map((s) => s.toFixed(2)).join(" ")} s`);
  }
  const [t, p] = [median(ts), median(py)];
  console.log(`DataFrame (daskflow):     median ${t.toFixed(2)} s`);
  console.log(`dask.dataframe (Python):  median ${p.toFixed(2)} s  -> DataFrame takes ${(t / p).toFixed(2)}x its time (goal <= 1.1x)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
