/**
 * Start-up to first result with code shipping on (the default), side by side with raw `LocalCluster` + `Client`
 * (bench/raw_dask.py startup, as bench/dask.ts measures it) and with `shipCode: false` (workers import the flow's
 * files where they are, loading tsx for them), rounds alternating: raw, shipping on, shipping off, raw, ...
 * Goal (issue 9): shipping on <= raw + 0.3 s. Each side is a fresh process; the daskflow figure is from the flow call
 * to the first result (the raw one from the top of its script), teardown excluded.
 *
 *   bash bench/run.sh shipping-startup        # or: npx tsx bench/shipping-startup.ts
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { flow, getRunContext } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { runJsonChild } from "./child.ts";
import { inc } from "./dask-tasks.ts";
import { best, median } from "./stats.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const PYTHON = process.env.DASKFLOW_PYTHON ?? join(HERE, "..", ".venv", "bin", "python");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLUSTER_KWARGS = { n_workers: 2, threads_per_worker: 1, processes: true, host: "127.0.0.1", dashboard_address: "127.0.0.1:0" };

type Timings = Record<string, number>;

async function child(shipCode: boolean): Promise<void> {
  process.env.DASKFLOW_LOGGING_LEVEL ??= "WARNING";
  const taskRunner = new DaskTaskRunner({ clusterKwargs: CLUSTER_KWARGS, shipCode });
  const t0 = performance.now();
  const run = flow({ name: "bench-ship-startup", taskRunner }, async () => {
    const value = await inc.submit(1).result();
    const shipped = (getRunContext().taskRunner as DaskTaskRunner).shipments[0]; // the run's copy of the runner
    console.log(JSON.stringify({ event: "first-result", first_result_s: (performance.now() - t0) / 1000, build_s: shipped?.timings.build ?? 0, pack_s: shipped?.timings.pack ?? 0 }));
    return value;
  });
  await run();
}

async function measure(cmd: string, args: string[]): Promise<Timings> {
  const [first] = await runJsonChild<Timings>(cmd, args);
  return first!;
}

async function main(): Promise<void> {
  console.log(`start-up to first result, ${ROUNDS} alternating rounds; cluster ${JSON.stringify(CLUSTER_KWARGS)}`);
  const rows: Record<"raw" | "on" | "off", Timings[]> = { raw: [], on: [], off: [] };
  const self = [...process.execArgv, fileURLToPath(import.meta.url), "--child"];
  for (let r = 0; r < ROUNDS; r++) {
    rows.raw.push(await measure(PYTHON, [join(HERE, "raw_dask.py"), "startup", JSON.stringify(CLUSTER_KWARGS)]));
    rows.on.push(await measure(process.execPath, [...self, "on"]));
    rows.off.push(await measure(process.execPath, [...self, "off"]));
    const [a, b, c] = [rows.raw[r]!, rows.on[r]!, rows.off[r]!];
    console.log(`  round ${r + 1}: raw ${a.first_result_s!.toFixed(2)} s, shipping on ${b.first_result_s!.toFixed(2)} s (build ${(b.build_s! * 1000).toFixed(0)} ms, pack ${(b.pack_s! * 1000).toFixed(0)} ms), shipCode: false ${c.first_result_s!.toFixed(2)} s`);
  }
  const col = (side: keyof typeof rows, key = "first_result_s") => rows[side].map((t) => t[key]!);
  const [raw, on, off] = [median(col("raw")), median(col("on")), median(col("off"))];
  const excess = on - raw;
  console.log(
    `start-up to first result, shipping on - raw: ${excess >= 0 ? "+" : ""}${excess.toFixed(2)} s (goal <= +0.3 s, ${excess <= 0.3 ? "met" : "not met"}); ` +
      `medians ${on.toFixed(2)} s vs raw ${raw.toFixed(2)} s [best ${best(col("on")).toFixed(2)} vs ${best(col("raw")).toFixed(2)}]; ` +
      `shipCode: false ${off.toFixed(2)} s (${off - raw >= 0 ? "+" : ""}${(off - raw).toFixed(2)} s); build ${(median(col("on", "build_s")) * 1000).toFixed(0)} ms + pack ${(median(col("on", "pack_s")) * 1000).toFixed(0)} ms`,
  );
}

if (process.argv.includes("--child")) await child(process.argv[process.argv.indexOf("--child") + 1] === "on");
else await main();
