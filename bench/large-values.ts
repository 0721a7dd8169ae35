/**
 * Large values (issue 10 item 8): a task result of N MiB reaching the flow process, and passed from a task on one
 * worker to a task on the other, against raw Dask moving the same bytes on the same cluster shape, side by side;
 * rounds alternate (raw, daskflow, raw, ...), figures are medians.
 *
 *   bash bench/run.sh large                      # or: BENCH_ROUNDS=3 BENCH_SIZES=10,40,100 npx tsx bench/large-values.ts
 *
 * Goals: at 100 MiB daskflow <= 2x raw for worker -> flow process and worker -> worker, and time growing linearly
 * with size: t(100)/t(10) near 10 (a fixed per-task cost makes it lower, a quadratic hop far higher).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { flow, getRunContext } from "daskflow";
import { DaskTaskRunner, annotate } from "daskflow/dask";
import { bytesLength, makeBytes, makeString, stringLength } from "./large-tasks.ts";
import { runJsonChild } from "./child.ts";
import { median } from "./stats.ts";

process.env.DASKFLOW_LOGGING_LEVEL ??= "WARNING";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = process.env.DASKFLOW_PYTHON ?? join(ROOT, ".venv", "bin", "python");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIZES = (process.env.BENCH_SIZES ?? "10,40,100").split(",").map(Number);
const MIB = 2 ** 20;
const CLUSTER_KWARGS = { n_workers: 2, threads_per_worker: 1, processes: true, host: "127.0.0.1", dashboard_address: "127.0.0.1:0" };

/** figure -> size -> seconds of each round */
type Figures = Record<string, Record<number, number[]>>;
const figures: Figures = {};
const record = (figure: string, mib: number, seconds: number) => ((figures[figure] ??= {})[mib] ??= []).push(seconds);

async function rawRound(): Promise<void> {
  const [out] = await runJsonChild<{ to_client: Record<string, number>; to_client_direct: Record<string, number>; task_to_task: Record<string, number> }>(PYTHON, [
    "bench/raw_large.py",
    JSON.stringify(CLUSTER_KWARGS),
    JSON.stringify(SIZES),
  ]);
  for (const mib of SIZES) {
    record("raw bytes -> client", mib, out!.to_client[mib]!);
    record("raw bytes -> client (direct)", mib, out!.to_client_direct[mib]!);
    record("raw bytes task -> task", mib, out!.task_to_task[mib]!);
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench: wrong result for ${what}`);
}

async function daskflowRound(): Promise<void> {
  await flow({ name: "bench-large", taskRunner: new DaskTaskRunner({ clusterKwargs: CLUSTER_KWARGS }) }, async () => {
    const runner = getRunContext().taskRunner as DaskTaskRunner; // the flow run's own copy of the runner
    const [first, second] = (await runner.workers()).map((w) => w.address).sort();
    const on = <T>(worker: string, submit: () => T): T => annotate({ workers: [worker], allowOtherWorkers: false }, submit);
    check((await on(second!, () => bytesLength.submit(on(first!, () => makeBytes.submit(0)))).result()) === 0, "warm-up");
    for (const mib of SIZES) {
      let t = performance.now();
      const bytes = await makeBytes.submit(mib).result();
      record("daskflow Uint8Array -> flow", mib, (performance.now() - t) / 1000);
      check(bytes instanceof Uint8Array && bytes.byteLength === mib * MIB, "Uint8Array");

      t = performance.now();
      const text = await makeString.submit(mib).result();
      record("daskflow string -> flow", mib, (performance.now() - t) / 1000);
      check(typeof text === "string" && text.length === mib * MIB, "string");

      t = performance.now();
      const n = await on(second!, () => bytesLength.submit(on(first!, () => makeBytes.submit(mib)))).result();
      record("daskflow Uint8Array task -> task", mib, (performance.now() - t) / 1000);
      check(n === mib * MIB, "Uint8Array task -> task");

      t = performance.now();
      const m = await on(second!, () => stringLength.submit(on(first!, () => makeString.submit(mib)))).result();
      record("daskflow string task -> task", mib, (performance.now() - t) / 1000);
      check(m === mib * MIB, "string task -> task");
    }
  })();
}

for (let round = 0; round < ROUNDS; round++) {
  await rawRound();
  await daskflowRound();
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}

const med = (figure: string, mib: number) => median(figures[figure]?.[mib] ?? []);
const lo = SIZES[0]!;
const hi = SIZES[SIZES.length - 1]!;
console.log(`cluster ${JSON.stringify(CLUSTER_KWARGS)}; ${ROUNDS} rounds per side, medians in seconds; sizes in MiB`);
console.log(["figure".padEnd(34), ...SIZES.map((s) => `${s} MiB`.padStart(9)), `t(${hi})/t(${lo})`.padStart(14)].join(""));
for (const figure of Object.keys(figures)) {
  console.log([figure.padEnd(34), ...SIZES.map((s) => med(figure, s).toFixed(2).padStart(9)), (med(figure, hi) / med(figure, lo)).toFixed(1).padStart(14)].join(""));
}
console.log(`each round at ${hi} MiB (seconds):`);
for (const figure of Object.keys(figures)) console.log(`  ${figure.padEnd(34)}${(figures[figure]?.[hi] ?? []).map((t) => t.toFixed(2)).join(" ")}`);
for (const [ours, raw] of [
  ["daskflow Uint8Array -> flow", "raw bytes -> client"],
  ["daskflow string -> flow", "raw bytes -> client"],
  ["daskflow Uint8Array task -> task", "raw bytes task -> task"],
  ["daskflow string task -> task", "raw bytes task -> task"],
] as const) {
  console.log(`${ours} / ${raw} at ${hi} MiB: ${(med(ours, hi) / med(raw, hi)).toFixed(2)}x (goal <= 2x)`);
}
// No goal: how daskflow compares with raw Dask fetching from the worker itself, as the bridge does on a LocalCluster.
console.log(`daskflow Uint8Array -> flow / raw bytes -> client (direct) at ${hi} MiB: ${(med("daskflow Uint8Array -> flow", hi) / med("raw bytes -> client (direct)", hi)).toFixed(2)}x`);
console.log(`flow process peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
