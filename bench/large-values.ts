/**
 * Large values (issue 10 item 8): a task result of N MiB reaching the flow process, and passed from a task on one
 * worker to a task on the other, against raw Dask moving the same bytes on the same cluster shape, side by side;
 * rounds alternate (raw, daskflow, raw, ...), figures are medians.
 *
 *   bash bench/run.sh large                      # or: BENCH_ROUNDS=3 BENCH_SIZES=10,40,100 npx tsx bench/large-values.ts
 *
 * Goals: at 100 MiB daskflow <= 2x raw for worker -> flow process and worker -> worker, and time growing linearly
 * with size: t(100)/t(10) near 10 (a fixed per-task cost makes it lower, a quadratic hop far higher).
 *
 * Each figure runs BENCH_REPEAT times in a row (default 3) in every round, on both sides, and every time counts. On
 * a VM that gives freed memory back to its host (virtio free page reporting) the first touch of a page is cheap or
 * costly by what ran before: a figure run once pays for whatever its predecessor freed, and that differs between the
 * sides (daskflow's string -> flow frees ~300 MiB across four processes just before its worker -> worker). In a row,
 * a figure mostly meets the memory its own previous run freed, as a pipeline of large values does. BENCH_REPEAT=1
 * gives the figures once each; BENCH_SETTLE (seconds, default 0) pauses both sides before each figure.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { flow, getRunContext } from "daskflow";
import { DaskTaskRunner, annotate } from "daskflow/dask";
import { bytesLength, makeBytes, makeString, stringLength } from "./large-tasks.ts";
import { runJsonChild } from "./child.ts";
import { median } from "./stats.ts";
import { describeReporting, pageReporting } from "./page-reporting.ts";

process.env.DASKFLOW_LOGGING_LEVEL ??= "WARNING";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = process.env.DASKFLOW_PYTHON ?? join(ROOT, ".venv", "bin", "python");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIZES = (process.env.BENCH_SIZES ?? "10,40,100").split(",").map(Number);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const SETTLE = Number(process.env.BENCH_SETTLE ?? 0);
const MIB = 2 ** 20;
const CLUSTER_KWARGS = { n_workers: 2, threads_per_worker: 1, processes: true, host: "127.0.0.1", dashboard_address: "127.0.0.1:0" };

/** figure -> size -> seconds of each round */
type Figures = Record<string, Record<number, number[]>>;
const figures: Figures = {};
const record = (figure: string, mib: number, seconds: number) => ((figures[figure] ??= {})[mib] ??= []).push(seconds);

async function rawRound(): Promise<void> {
  const [out] = await runJsonChild<Record<"to_client" | "to_client_direct" | "task_to_task" | "str_task_to_task", Record<string, number[]>>>(PYTHON, [
    "bench/raw_large.py",
    JSON.stringify(CLUSTER_KWARGS),
    JSON.stringify(SIZES),
    String(REPEAT),
    String(SETTLE),
  ]);
  for (const mib of SIZES) {
    for (const t of out!.to_client[mib]!) record("raw bytes -> client", mib, t);
    for (const t of out!.to_client_direct[mib]!) record("raw bytes -> client (direct)", mib, t);
    for (const t of out!.task_to_task[mib]!) record("raw bytes task -> task", mib, t);
    for (const t of out!.str_task_to_task[mib]!) record("raw str task -> task", mib, t);
  }
}

/** Times `run` REPEAT times in a row, after a pause of SETTLE seconds (as raw_large.py does on its side). */
async function measure(figure: string, mib: number, run: () => Promise<void>): Promise<void> {
  if (SETTLE > 0) await new Promise<void>((resolve) => setTimeout(resolve, SETTLE * 1000));
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    await run();
    record(figure, mib, (performance.now() - t) / 1000);
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench: wrong result for ${what}`);
}

/** In odd rounds the string figures run before their Uint8Array twins: a figure's time depends on what ran (and
 * freed memory) just before it, so neither kind always follows the other. */
async function daskflowRound(round: number): Promise<void> {
  await flow({ name: "bench-large", taskRunner: new DaskTaskRunner({ clusterKwargs: CLUSTER_KWARGS }) }, async () => {
    const runner = getRunContext().taskRunner as DaskTaskRunner; // the flow run's own copy of the runner
    const [first, second] = (await runner.workers()).map((w) => w.address).sort();
    const on = <T>(worker: string, submit: () => T): T => annotate({ workers: [worker], allowOtherWorkers: false }, submit);
    check((await on(second!, () => bytesLength.submit(on(first!, () => makeBytes.submit(0)))).result()) === 0, "warm-up");
    const inOrder = <T>(pair: [T, T]): [T, T] => (round % 2 ? [pair[1], pair[0]] : pair);
    for (const mib of SIZES) {
      const pairs: [() => Promise<void>, () => Promise<void>][] = [
        [
          () =>
            measure("daskflow Uint8Array -> flow", mib, async () => {
              const bytes = await makeBytes.submit(mib).result();
              check(bytes instanceof Uint8Array && bytes.byteLength === mib * MIB, "Uint8Array");
            }),
          () =>
            measure("daskflow string -> flow", mib, async () => {
              const text = await makeString.submit(mib).result();
              check(typeof text === "string" && text.length === mib * MIB, "string");
            }),
        ],
        [
          () =>
            measure("daskflow Uint8Array task -> task", mib, async () => {
              const n = await on(second!, () => bytesLength.submit(on(first!, () => makeBytes.submit(mib)))).result();
              check(n === mib * MIB, "Uint8Array task -> task");
            }),
          () =>
            measure("daskflow string task -> task", mib, async () => {
              const m = await on(second!, () => stringLength.submit(on(first!, () => makeString.submit(mib)))).result();
              check(m === mib * MIB, "string task -> task");
            }),
        ],
      ];
      for (const pair of pairs) for (const run of inOrder(pair)) await run();
    }
  })();
}

const reportingBefore = pageReporting();
for (let round = 0; round < ROUNDS; round++) {
  await rawRound();
  await daskflowRound(round);
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}

const med = (figure: string, mib: number) => median(figures[figure]?.[mib] ?? []);
const lo = SIZES[0]!;
const hi = SIZES[SIZES.length - 1]!;
console.log(`cluster ${JSON.stringify(CLUSTER_KWARGS)}; ${ROUNDS} rounds per side, each figure ${REPEAT} times in a row${SETTLE ? ` after a ${SETTLE} s pause` : ""}; medians in seconds; sizes in MiB`);
console.log(["figure".padEnd(34), ...SIZES.map((s) => `${s} MiB`.padStart(9)), `t(${hi})/t(${lo})`.padStart(14)].join(""));
for (const figure of Object.keys(figures)) {
  console.log([figure.padEnd(34), ...SIZES.map((s) => med(figure, s).toFixed(2).padStart(9)), (med(figure, hi) / med(figure, lo)).toFixed(1).padStart(14)].join(""));
}
console.log(`each time at ${hi} MiB, round by round (seconds):`);
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
// No goal either: what a string of as many characters costs Python's Dask itself (pickled on each side).
console.log(`daskflow string task -> task / raw str task -> task at ${hi} MiB: ${(med("daskflow string task -> task", hi) / med("raw str task -> task", hi)).toFixed(2)}x`);
console.log(describeReporting(reportingBefore, pageReporting()));
console.log(`flow process peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
