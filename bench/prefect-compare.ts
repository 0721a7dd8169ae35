/**
 * daskflow against Prefect 3 + prefect-dask on the same Dask cluster shape, side by side in one run, rounds
 * alternating (Prefect, daskflow, Prefect, daskflow, ...) to spread machine noise.
 *
 *   bash bench/run.sh prefect        # installs .venv-bench on first use (bench/setup-prefect.sh), then this script
 *   BENCH_ROUNDS=3 BENCH_TRIVIAL=2000 BENCH_CHAIN=50 BENCH_MAP=10000 BENCH_FAN=500 bash bench/run.sh prefect
 *   BENCH_ONLY=daskflow bash bench/run.sh prefect     # only daskflow and raw Dask (no Prefect ratios)
 *
 * Workloads (the same on both sides, one flow run per round, after a warm-up that starts the cluster):
 *   (a) trivial  BENCH_TRIVIAL (2,000) `inc.submit(i)`, then the result of each              goal: Prefect/daskflow >= 5
 *   (b) chain    BENCH_CHAIN (50) dependent `inc` tasks, all submitted at once, until the last result   goal: >= 5
 *   (c) map      `inc.map(items)` over BENCH_MAP (10,000) items, then every result                       goal: >= 5
 *                daskflow twice: `inc.with({ batchSize: 1 }).map(items)` (one Dask task per item) and the plain
 *                `inc.map(items)` (automatic batches for 1,000+ items); the ratio line uses the plain one
 *   (d) fan      BENCH_FAN (500) `nap.submit(i)` that each sleep 50 ms, then `total.submit(futures)`, until its
 *                result                       goal: daskflow within 10 % of the ideal, 500 x 50 ms / thread slots
 *                also raw Dask (bench/raw_dask.py fan: client.submit and time.sleep, no Prefect, no daskflow) each
 *                round, for what Dask itself costs on this machine
 * The Prefect side is bench/prefect_side.py run with .venv-bench's Python (Prefect's ephemeral API server, PREFECT_HOME
 * in a temporary directory, PREFECT_LOGGING_LEVEL=WARNING); the daskflow side runs here (DASKFLOW_LOGGING_LEVEL=WARNING).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { flow } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { inc, nap, total } from "./compare-tasks.ts";
import { best, median } from "./stats.ts";
import { onInterrupt, runJsonChild } from "./child.ts";

process.env.DASKFLOW_LOGGING_LEVEL ??= "WARNING";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const PREFECT_PYTHON = process.env.BENCH_PREFECT_PYTHON ?? join(ROOT, ".venv-bench", "bin", "python");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const N = Number(process.env.BENCH_TRIVIAL ?? 2000);
const CHAIN = Number(process.env.BENCH_CHAIN ?? 50);
const MAP = Number(process.env.BENCH_MAP ?? 10000);
const FAN = Number(process.env.BENCH_FAN ?? 500);
const SLEEP_S = Number(process.env.BENCH_SLEEP_S ?? 0.05);
const WARMUP = 20;
/** BENCH_ONLY=daskflow runs only the daskflow side (e.g. at the full sizes, which take Prefect half an hour). */
const ONLY_DASKFLOW = process.env.BENCH_ONLY === "daskflow";

/** The one cluster shape both sides use, passed verbatim to LocalCluster. */
const CLUSTER_KWARGS = {
  n_workers: 2,
  threads_per_worker: 2,
  processes: true,
  host: "127.0.0.1",
  dashboard_address: "127.0.0.1:0",
};
const SLOTS = CLUSTER_KWARGS.n_workers * CLUSTER_KWARGS.threads_per_worker;
const IDEAL_FAN_S = (FAN * SLEEP_S) / SLOTS;

type Timings = Record<string, number | string>;
type Row = Record<string, number>;

const secs = (s: number) => (s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`);

// ------------------------------------------------------------------------------------------------ Prefect side

if (!existsSync(PREFECT_PYTHON)) {
  console.error("bench: .venv-bench (Prefect 3 + prefect-dask) is missing; run `bash bench/setup-prefect.sh` first.");
  process.exit(1);
}

/** One PREFECT_HOME for the whole run (so ~/.prefect is untouched); removed at the end. */
const PREFECT_HOME = mkdtempSync(join(tmpdir(), "daskflow-bench-prefect-home-"));
onInterrupt(() => rmSync(PREFECT_HOME, { recursive: true, force: true }));

/** Runs bench/prefect_side.py (its own process group, ended after it); resolves with the JSON object it printed. */
async function prefectRound(): Promise<Timings> {
  const args = [join(HERE, "prefect_side.py"), JSON.stringify(CLUSTER_KWARGS), String(N), String(CHAIN), String(MAP), String(FAN), String(SLEEP_S)];
  const env = { ...process.env, PREFECT_HOME, PREFECT_LOGGING_LEVEL: process.env.PREFECT_LOGGING_LEVEL ?? "WARNING" };
  return (await runJsonChild<Timings>(PREFECT_PYTHON, args, { env }))[0]!;
}

// ------------------------------------------------------------------------------------------------ daskflow side

/** (d) written directly against distributed with the repo's .venv (bench/raw_dask.py fan): Dask's own floor. */
async function rawFanRound(): Promise<number> {
  const python = join(ROOT, ".venv", "bin", "python");
  const args = [join(HERE, "raw_dask.py"), "fan", JSON.stringify(CLUSTER_KWARGS), String(FAN), String(SLEEP_S), "1"];
  return (await runJsonChild<{ fan_s: number[] }>(python, args))[0]!.fan_s[0]!;
}

const allResults = <T>(futures: { result(): Promise<T> }[]) => Promise.all(futures.map((f) => f.result()));

const workFlow = flow({ name: "bench-prefect-compare", taskRunner: new DaskTaskRunner({ clusterKwargs: CLUSTER_KWARGS }) }, async () => {
  const out: Row = {};
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const s = (now - t) / 1000;
    t = now;
    return s;
  };
  // Warm-up, as on the Prefect side: starts bridge, cluster and sidecars, and runs each task once per slot.
  for (let r = 0; r < 2; r++) {
    const values = await allResults(Array.from({ length: WARMUP }, (_, i) => inc.submit(-100 - i)));
    if (values.some((v, i) => v !== -99 - i)) throw new Error("wrong warm-up result");
  }
  if ((await total.submit(Array.from({ length: 8 }, () => nap.submit(-1, 0))).result()) !== -8) throw new Error("wrong warm-up fan");
  out.warmup_s = lap();

  // (a) trivial
  const futures = Array.from({ length: N }, (_, i) => inc.submit(i));
  out.trivial_submit_s = (performance.now() - t) / 1000;
  const values = await allResults(futures);
  out.trivial_s = lap();
  if (values.reduce((a, b) => a + b, 0) !== (N * (N + 1)) / 2) throw new Error("wrong trivial sum");

  // (b) chain
  let f = inc.submit(0);
  for (let i = 1; i < CHAIN; i++) f = inc.submit(f);
  const last = await f.result();
  out.chain_s = lap();
  if (last !== CHAIN) throw new Error(`wrong chain result ${last}`);

  // (c) map, one Dask task per item, then the plain map (automatic batches for 1,000+ items)
  const items = Array.from({ length: MAP }, (_, i) => i);
  const want = (MAP * (MAP + 1)) / 2;
  let mapped = inc.with({ batchSize: 1 }).map(items);
  out.map_unbatched_submit_s = (performance.now() - t) / 1000;
  if ((await allResults(mapped)).reduce((a, b) => a + b, 0) !== want) throw new Error("wrong map sum");
  out.map_unbatched_s = lap();
  mapped = inc.map(items);
  out.map_submit_s = (performance.now() - t) / 1000;
  if ((await allResults(mapped)).reduce((a, b) => a + b, 0) !== want) throw new Error("wrong map sum");
  out.map_s = lap();

  // (d) fan-out / fan-in
  const naps = Array.from({ length: FAN }, (_, i) => nap.submit(i, SLEEP_S));
  out.fan_submit_s = (performance.now() - t) / 1000;
  const s = await total.submit(naps).result();
  out.fan_s = lap();
  if (s !== (FAN * (FAN - 1)) / 2) throw new Error(`wrong fan sum ${s}`);
  return out;
});

async function daskflowRound(): Promise<Row> {
  const t = performance.now();
  const out = await workFlow();
  out.flow_total_s = (performance.now() - t) / 1000;
  return out;
}

// ------------------------------------------------------------------------------------------------ main

const col = (rows: Row[], key: string) => rows.map((r) => r[key]!).filter((v) => Number.isFinite(v));
const verdict = (ok: boolean) => (ok ? "goal met" : "GOAL MISSED");

async function main(): Promise<void> {
  console.log(
    `daskflow vs Prefect + prefect-dask: trivial ${N}, chain ${CHAIN}, map ${MAP}, fan ${FAN} x ${SLEEP_S * 1000} ms; ` +
      `${ROUNDS} alternating rounds per side; cluster ${JSON.stringify(CLUSTER_KWARGS)}`,
  );
  const pf: Row[] = [];
  const df: Row[] = [];
  const rawFan: number[] = [];
  let versions = "";
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const a = ONLY_DASKFLOW ? undefined : await prefectRound();
      if (a) {
      versions = String(a.versions);
      const row: Row = Object.fromEntries(Object.entries(a).filter(([, v]) => typeof v === "number")) as Row;
      pf.push(row);
      console.log(
        `  round ${r + 1} prefect  : trivial ${secs(row.trivial_s!)} (submit loop ${secs(row.trivial_submit_s!)}), chain ${secs(row.chain_s!)}, ` +
          `map ${secs(row.map_s!)} (submit ${secs(row.map_submit_s!)}), fan ${secs(row.fan_s!)} (submit ${secs(row.fan_submit_s!)}); ` +
          `warm-up ${secs(row.warmup_s!)}, flow run ${secs(row.flow_total_s!)}, API server start ${secs(row.server_start_s!)}, process ${secs(row.process_s!)}`,
      );
      }
      const b = await daskflowRound();
      df.push(b);
      rawFan.push(await rawFanRound());
      console.log(
        `  round ${r + 1} daskflow : trivial ${secs(b.trivial_s!)} (submit loop ${secs(b.trivial_submit_s!)}), chain ${secs(b.chain_s!)}, ` +
          `map ${secs(b.map_s!)} (unbatched ${secs(b.map_unbatched_s!)}), fan ${secs(b.fan_s!)} (submit ${secs(b.fan_submit_s!)}); ` +
          `warm-up ${secs(b.warmup_s!)}, flow run ${secs(b.flow_total_s!)}`,
      );
    }
  } finally {
    rmSync(PREFECT_HOME, { recursive: true, force: true });
  }

  console.log("");
  console.log(`${versions || "daskflow only"}; medians of ${ROUNDS} rounds (best in brackets):`);
  const m = (rows: Row[], k: string) => median(col(rows, k));
  const b = (rows: Row[], k: string) => best(col(rows, k));
  const detail = (label: string, k: string, dfKey = k) =>
    console.log(
      `  ${label.padEnd(12)}${pf.length ? ` prefect ${secs(m(pf, k))} [${secs(b(pf, k))}] ` : ""} daskflow ${secs(m(df, dfKey))} [${secs(b(df, dfKey))}]`,
    );
  detail("trivial", "trivial_s");
  detail("chain", "chain_s");
  detail("map", "map_s");
  console.log(`  map, daskflow one Dask task per item (batchSize 1): ${secs(m(df, "map_unbatched_s"))} [${secs(b(df, "map_unbatched_s"))}]`);
  detail("fan", "fan_s");
  console.log(`  per task:${pf.length ? ` prefect trivial ${((m(pf, "trivial_s") / N) * 1000).toFixed(1)} ms,` : ""} daskflow ${((m(df, "trivial_s") / N) * 1000).toFixed(2)} ms`);
  const fanRaw = median(rawFan);
  console.log(`  fan, raw Dask (client.submit + time.sleep): ${secs(fanRaw)} [${secs(best(rawFan))}]`);
  console.log("");
  const fanIdeal = () =>
    console.log(
      `fan-${FAN}x${SLEEP_S * 1000}ms daskflow/ideal: ${(m(df, "fan_s") / IDEAL_FAN_S).toFixed(2)} (goal <= 1.10, ${verdict(m(df, "fan_s") <= IDEAL_FAN_S * 1.1)}; ` +
        `ideal ${FAN} x ${SLEEP_S * 1000} ms / ${SLOTS} slots = ${secs(IDEAL_FAN_S)}; raw Dask/ideal ${(fanRaw / IDEAL_FAN_S).toFixed(2)}, daskflow/raw Dask ${(m(df, "fan_s") / fanRaw).toFixed(2)})`,
    );
  if (ONLY_DASKFLOW) return fanIdeal();

  const ratio = (k: string, dfKey = k) => m(pf, k) / m(df, dfKey);
  const lines = [
    [`trivial-${N}`, "trivial_s", "trivial_s"],
    [`chain-${CHAIN}`, "chain_s", "chain_s"],
    [`map-${MAP}`, "map_s", "map_s"],
    [`map-${MAP}-unbatched`, "map_s", "map_unbatched_s"],
  ] as const;
  for (const [label, k, dfKey] of lines) {
    const x = ratio(k, dfKey);
    console.log(`${label} prefect-dask/daskflow: ${x.toFixed(1)}x (goal >= 5x, ${verdict(x >= 5)}; ${secs(m(pf, k))} vs ${secs(m(df, dfKey))})`);
  }
  const fanDf = m(df, "fan_s");
  const fanPf = m(pf, "fan_s");
  console.log(`fan-${FAN}x${SLEEP_S * 1000}ms prefect-dask/daskflow: ${(fanPf / fanDf).toFixed(1)}x (${secs(fanPf)} vs ${secs(fanDf)}; prefect-dask/ideal ${(fanPf / IDEAL_FAN_S).toFixed(2)})`);
  fanIdeal();
}

await main();
