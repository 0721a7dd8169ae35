/**
 * A large result reaching the flow process: toArrow() of a generated 1-million-row frame (int64, string, float64,
 * int64, timestamp columns), from the call to the apache-arrow Table in hand, against the floor of the same cluster
 * shape: dask.dataframe gathering the same frame into a Python process (no Arrow, no second hop).
 *   npx tsx bench/dataframe-arrow.ts [millionRows=1] [rounds=3] [workers=2] [partitions=8]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow } from "daskflow";
import { DataFrame, DaskTaskRunner, getDaskClient } from "daskflow/dask";
import { onInterrupt, runJsonChild } from "./child.ts";
import { median } from "./stats.ts";

const [millions = "1", roundsArg = "3", workersArg = "2", partitionsArg = "8"] = process.argv.slice(2);
const rows = Math.round(Number(millions) * 1_000_000);
const [rounds, workers, partitions] = [roundsArg, workersArg, partitionsArg].map(Number) as [number, number, number];
const python = join(".venv", "bin", "python");

const dir = mkdtempSync(join(tmpdir(), "daskflow-df-arrow-"));
onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
try {
  await runJsonChild(python, ["bench/dataframe_side.py", "gen", dir, String(rows), String(partitions)]);
  console.log(`data: ${rows.toLocaleString()} rows x 5 columns in ${partitions} Parquet files; cluster: ${workers} workers x 1 thread (processes)`);
  const tsSide = flow({ name: "df-arrow", taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: workers, threads_per_worker: 1 } }) }, async () => {
    await using client = await getDaskClient();
    const seconds: number[] = [];
    let n = 0;
    let ids = 0n;
    for (let i = 0; i <= rounds; i++) {
      const t0 = performance.now();
      const table = await DataFrame.readParquet(dir).toArrow({ client });
      if (i) seconds.push((performance.now() - t0) / 1000);
      n = table.numRows;
      ids = table.getChild("id")!.get(n - 1) as bigint;
    }
    return { seconds, n, ids };
  });
  const t = await tsSide();
  if (t.n !== rows || t.ids !== BigInt(rows - 1)) throw new Error(`toArrow gave ${t.n} rows, last id ${t.ids}`);
  const [p] = await runJsonChild<{ seconds: number[]; rows: number }>(python, ["bench/dataframe_side.py", "gather", dir, String(rounds), String(workers)]);
  const [a, b] = [median(t.seconds), median(p!.seconds)];
  console.log(`toArrow() to the flow process: ${t.seconds.map((s) => s.toFixed(2)).join(" ")} s, median ${a.toFixed(2)} s (goal <= 1 s)`);
  console.log(`dask.dataframe compute() into Python (floor): median ${b.toFixed(2)} s -> toArrow takes ${(a / b).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
