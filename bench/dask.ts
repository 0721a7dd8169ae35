/**
 * Dask benchmarks (DESIGN.md §4): daskflow's DaskTaskRunner against raw Python `distributed` on the same cluster
 * shape, side by side in one run, rounds alternating (raw, daskflow, raw, daskflow, ...) to spread machine noise.
 *
 *   bash bench/run.sh                 # or: DASKFLOW_LOGGING_LEVEL=WARNING npx tsx bench/dask.ts
 *   BENCH_ROUNDS=5 BENCH_TASKS=2000 BENCH_CHAIN=50 npx tsx bench/dask.ts
 *
 * Figures (goals from the issue):
 *   throughput  2,000 trivial tasks on an already started, warmed-up cluster: daskflow submit + result of each, vs
 *               raw `client.map` + `client.gather`                                  goal: ratio daskflow/raw >= 0.85
 *   chain       50 dependent tasks (each takes the previous one's future), submitted at once, until the last
 *               result; per link = total / 50                                        goal: ratio daskflow/raw <= 1.2
 *   start-up    fresh process, nothing running -> first result: daskflow from the flow call, raw from the top of
 *               the script (before `import distributed`): LocalCluster + Client + submit + result
 *                                                                                    goal: daskflow <= raw + 0.5 s
 * The raw side is bench/raw_dask.py run with the repo's .venv Python; the daskflow side runs here (work rounds) or
 * in a fresh copy of this script (`--child startup`).
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { flow } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { inc } from "./dask-tasks.ts";
import { best, median } from "./stats.ts";
import { runJsonChild } from "./child.ts";

process.env.DASKFLOW_LOGGING_LEVEL ??= "WARNING";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const PYTHON = process.env.DASKFLOW_PYTHON ?? join(ROOT, ".venv", "bin", "python");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = Number(process.env.BENCH_TASKS ?? 2000);
const CHAIN = Number(process.env.BENCH_CHAIN ?? 50);
const WARMUP = 20;
/** BENCH_ONLY=work or BENCH_ONLY=startup runs one half (for profiling); the summary then only has that half. */
const ONLY = process.env.BENCH_ONLY ?? "";

/** The one cluster shape both sides use, passed verbatim to LocalCluster (the bridge would default host and
 * dashboard_address to these; they are spelled out so the raw side gets exactly the same). */
const CLUSTER_KWARGS = {
  n_workers: 2,
  threads_per_worker: 1,
  processes: true,
  host: "127.0.0.1",
  dashboard_address: "127.0.0.1:0",
};

type Timings = Record<string, number>;

// ------------------------------------------------------------------------------------------------ small helpers

const ms = (s: number, digits = 1) => `${(s * 1000).toFixed(digits)} ms`;
const secs = (s: number) => `${s.toFixed(2)} s`;

function procRssMib(pid: number | "self"): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Direct children of this process whose command line contains `needle` (the bridge is one). */
function childPids(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const TICK = 100; // USER_HZ: /proc stat times are in 1/100 s on Linux

/**
 * CPU seconds (user + system) used so far by this process and every descendant, by kind: the flow process, the
 * bridge (which also hosts the LocalCluster's scheduler), Dask's nanny/worker processes, Node sidecars.
 */
function cpuByKind(): Timings {
  const info = new Map<number, { ppid: number; cpu: number; cmd: string }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      info.set(Number(entry), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK, cmd: readFileSync(`/proc/${entry}/cmdline`, "utf8") });
    } catch {
      // gone meanwhile
    }
  }
  const out: Timings = { flow: 0, bridge: 0, workers: 0, sidecars: 0 };
  const own = process.cpuUsage();
  out.flow = (own.user + own.system) / 1e6;
  const visit = (pid: number) => {
    for (const [child, p] of info) {
      if (p.ppid !== pid) continue;
      const kind = p.cmd.includes("sidecar") ? "sidecars" : p.cmd.includes("daskflow_bridge") ? "bridge" : p.cmd.includes("python") ? "workers" : "other";
      out[kind] = (out[kind] ?? 0) + p.cpu;
      visit(child);
    }
  };
  visit(process.pid);
  return out;
}

function cpuDelta(before: Timings, after: Timings, prefix: string): Timings {
  const out: Timings = {};
  for (const k of Object.keys(after)) out[`${prefix}${k}`] = after[k]! - (before[k] ?? 0);
  return out;
}

// ------------------------------------------------------------------------------------------------ daskflow side

const runner = () => new DaskTaskRunner({ clusterKwargs: CLUSTER_KWARGS });

/** Throughput and chain on one cluster, after a warm-up (the runner starts its cluster lazily, per flow run). */
const workFlow = flow({ name: "bench-dask-work", taskRunner: runner() }, async (n: number, chain: number) => {
  const out: Timings = {};
  let t = performance.now();
  // Warm-up: starts bridge, cluster and sidecars, and has every sidecar import dask-tasks.ts.
  for (let r = 0; r < 2; r++) {
    const warm = Array.from({ length: WARMUP }, (_, i) => inc.submit(i));
    const values = await Promise.all(warm.map((f) => f.result()));
    if (values.some((v, i) => v !== i + 1)) throw new Error("wrong warm-up result");
  }
  out.warmup_s = (performance.now() - t) / 1000;

  // Throughput: n submits, then every result. Also note when the last final state arrived (worker event) to tell
  // the cluster round trip from the result download (gather).
  let lastFinal = 0;
  const cpuBefore = cpuByKind();
  t = performance.now();
  const futures = [];
  for (let i = 0; i < n; i++) futures.push(inc.submit(i));
  const tSubmitted = performance.now();
  const values = await Promise.all(
    futures.map((f) => {
      void f.wait().then(() => (lastFinal = performance.now()));
      return f.result();
    }),
  );
  const tDone = performance.now();
  Object.assign(out, cpuDelta(cpuBefore, cpuByKind(), "cpu_"));
  if (values.reduce((a, b) => a + b, 0) !== (n * (n + 1)) / 2) throw new Error("wrong sum from daskflow");
  out.throughput_s = (tDone - t) / 1000;
  out.throughput_submit_s = (tSubmitted - t) / 1000;
  out.throughput_last_state_s = (lastFinal - t) / 1000;
  out.rss_mib = procRssMib("self");
  out.bridge_rss_mib = childPids("daskflow_bridge").reduce((a, pid) => a + procRssMib(pid), 0);

  // Chain: each task takes the previous one's future (a Dask dependency); all submitted at once.
  t = performance.now();
  let f = inc.submit(0);
  for (let i = 1; i < chain; i++) f = inc.submit(f);
  const last = await f.result();
  out.chain_s = (performance.now() - t) / 1000;
  if (last !== chain) throw new Error(`wrong chain result ${last}`);
  return out;
});

async function daskflowWork(): Promise<Timings> {
  const t = performance.now();
  const out = await workFlow(N, CHAIN);
  out.flow_total_s = (performance.now() - t) / 1000;
  out.peak_rss_mib = process.resourceUsage().maxRSS / 1024;
  return out;
}

/** `--child startup`: a fresh process; times the flow call to the first result, then lets the flow end. */
async function daskflowStartupChild(): Promise<void> {
  const nodeUpToFlowCall = performance.now() / 1000; // node start + tsx + importing daskflow and this script
  const t0 = performance.now();
  const first = flow({ name: "bench-dask-startup", taskRunner: runner() }, async () => {
    const value = await inc.submit(1).result();
    const t = performance.now();
    if (value !== 2) throw new Error("wrong first result");
    console.log(JSON.stringify({ event: "first-result", first_result_s: (t - t0) / 1000, node_start_to_flow_call_s: nodeUpToFlowCall }));
    return value;
  });
  await first();
  console.log(JSON.stringify({ teardown_s: (performance.now() - t0) / 1000 }));
}

// ------------------------------------------------------------------------------------------------ main

async function rawWork(): Promise<Timings> {
  const [out] = await runJsonChild<Timings>(PYTHON, [join(HERE, "raw_dask.py"), "work", JSON.stringify(CLUSTER_KWARGS), String(N), String(CHAIN)]);
  return out!;
}

async function startup(cmd: string, args: string[]): Promise<Timings> {
  let fromOutside = NaN;
  let inside: Timings = {};
  await runJsonChild<Timings>(cmd, args, {
    onLine: (obj, sinceSpawn) => {
      if (obj.event === undefined) return;
      fromOutside = sinceSpawn;
      inside = obj;
    },
  });
  return { ...inside, spawn_to_first_result_s: fromOutside };
}

const rawStartup = () => startup(PYTHON, [join(HERE, "raw_dask.py"), "startup", JSON.stringify(CLUSTER_KWARGS)]);
const daskflowStartup = () => startup(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--child", "startup"]);

function column(rows: Timings[], key: string): number[] {
  return rows.map((r) => r[key]!).filter((v) => Number.isFinite(v));
}

async function main(): Promise<void> {
  console.log(
    `daskflow vs raw Dask: ${N} trivial tasks, chain of ${CHAIN}, ${ROUNDS} alternating rounds per side; cluster ${JSON.stringify(CLUSTER_KWARGS)}`,
  );
  const raw: Timings[] = [];
  const df: Timings[] = [];
  for (let r = 0; r < (ONLY === "startup" ? 0 : ROUNDS); r++) {
    const a = await rawWork();
    raw.push(a);
    console.log(
      `  round ${r + 1} raw      : throughput ${secs(a.throughput_s!)}, chain ${ms(a.chain_s!)}; CPU s client+scheduler ${a.cpu_client!.toFixed(2)}, workers ${a.cpu_workers!.toFixed(2)}`,
    );
    const b = await daskflowWork();
    df.push(b);
    console.log(
      `  round ${r + 1} daskflow : throughput ${secs(b.throughput_s!)} (submit loop ${ms(b.throughput_submit_s!)}, last state at ${secs(b.throughput_last_state_s!)}), chain ${ms(b.chain_s!)}, warm-up ${secs(b.warmup_s!)}, flow run ${secs(b.flow_total_s!)}; ` +
        `CPU s flow ${b.cpu_flow!.toFixed(2)}, bridge+scheduler ${b.cpu_bridge!.toFixed(2)}, workers ${b.cpu_workers!.toFixed(2)}, sidecars ${b.cpu_sidecars!.toFixed(2)}`,
    );
  }
  const rawUp: Timings[] = [];
  const dfUp: Timings[] = [];
  for (let r = 0; r < (ONLY === "work" ? 0 : ROUNDS); r++) {
    const a = await rawStartup();
    rawUp.push(a);
    console.log(
      `  start-up ${r + 1} raw      : ${secs(a.first_result_s!)} (import ${secs(a.import_s!)}, LocalCluster+Client ${secs(a.cluster_client_s!)}, submit+result ${ms(a.submit_result_s!)}); spawn->first result ${secs(a.spawn_to_first_result_s!)}`,
    );
    const b = await daskflowStartup();
    dfUp.push(b);
    console.log(
      `  start-up ${r + 1} daskflow : ${secs(b.first_result_s!)} from the flow call; spawn->first result ${secs(b.spawn_to_first_result_s!)} (node+tsx+imports ${secs(b.node_start_to_flow_call_s!)})`,
    );
  }

  console.log("");
  console.log(`medians of ${ROUNDS} rounds (best in brackets):`);
  const lines = [...(raw.length ? workSummary(raw, df) : []), ...(rawUp.length ? startupSummary(rawUp, dfUp) : [])];
  console.log("");
  // The figures, one line each (the lines bench/README.md records).
  for (const line of lines) console.log(line);
}

const verdict = (ok: boolean) => (ok ? "goal met" : "GOAL MISSED");

/** Prints the details of the work rounds; returns the figure lines. */
function workSummary(raw: Timings[], df: Timings[]): string[] {
  const tp = { raw: median(column(raw, "throughput_s")), df: median(column(df, "throughput_s")) };
  const tpBest = { raw: best(column(raw, "throughput_s")), df: best(column(df, "throughput_s")) };
  const ch = { raw: median(column(raw, "chain_s")), df: median(column(df, "chain_s")) };
  const chBest = { raw: best(column(raw, "chain_s")), df: best(column(df, "chain_s")) };
  const perTask = { raw: (tp.raw / N) * 1e6, df: (tp.df / N) * 1e6 };
  const submitPerTask = (median(column(df, "throughput_submit_s")) / N) * 1e6;
  const rawSubmitPerTask = (median(column(raw, "throughput_submit_s")) / N) * 1e6;
  const gatherTail = median(df.map((r) => r.throughput_s! - r.throughput_last_state_s!));
  const cpu = (rows: Timings[], k: string) => median(column(rows, k)).toFixed(2);

  console.log(`  throughput raw      : ${Math.round(N / tp.raw)} tasks/s [${Math.round(N / tpBest.raw)}]`);
  console.log(`  throughput daskflow : ${Math.round(N / tp.df)} tasks/s [${Math.round(N / tpBest.df)}]`);
  console.log(`  chain raw           : ${ms(ch.raw / CHAIN, 2)}/link [${ms(chBest.raw / CHAIN, 2)}]`);
  console.log(`  chain daskflow      : ${ms(ch.df / CHAIN, 2)}/link [${ms(chBest.df / CHAIN, 2)}]`);
  console.log(`  CPU seconds in the ${N}-task phase, raw     : client+scheduler ${cpu(raw, "cpu_client")}, workers ${cpu(raw, "cpu_workers")}`);
  console.log(
    `  CPU seconds in the ${N}-task phase, daskflow: flow process ${cpu(df, "cpu_flow")}, bridge+scheduler ${cpu(df, "cpu_bridge")}, ` +
      `workers ${cpu(df, "cpu_workers")}, sidecars ${cpu(df, "cpu_sidecars")}`,
  );
  console.log(
    `  daskflow submit loop: ${submitPerTask.toFixed(1)} µs/task (raw client.map call: ${rawSubmitPerTask.toFixed(1)} µs/task); ` +
      `last final state -> all results: ${ms(gatherTail)}`,
  );
  const tpRatio = tp.raw / tp.df;
  const chRatio = ch.df / ch.raw;
  // CPU seconds of every process of each side for the same 2,000 tasks: steadier than wall time on a shared machine,
  // and what bounds throughput when all processes share the same few cores.
  const cpuTotal = (r: Timings, keys: string[]) => keys.reduce((a, k) => a + (r[k] ?? 0), 0);
  const rawCpu = median(raw.map((r) => cpuTotal(r, ["cpu_client", "cpu_workers"])));
  const dfCpu = median(df.map((r) => cpuTotal(r, ["cpu_flow", "cpu_bridge", "cpu_workers", "cpu_sidecars", "cpu_other"])));
  return [
    `throughput ratio daskflow/raw: ${tpRatio.toFixed(2)} (goal >= 0.85, ${verdict(tpRatio >= 0.85)}; best-of ratio ${(tpBest.raw / tpBest.df).toFixed(2)})`,
    `chain per-link latency ratio daskflow/raw: ${chRatio.toFixed(2)} (goal <= 1.2, ${verdict(chRatio <= 1.2)}; ${ms(ch.df / CHAIN, 2)} vs ${ms(ch.raw / CHAIN, 2)} per link)`,
    `per-task cost daskflow/raw: ${perTask.df.toFixed(0)} µs vs ${perTask.raw.toFixed(0)} µs wall (+${(perTask.df - perTask.raw).toFixed(0)} µs/task); ` +
      `${((dfCpu / N) * 1e6).toFixed(0)} µs vs ${((rawCpu / N) * 1e6).toFixed(0)} µs CPU (all processes)`,
    `CPU-cost ratio raw/daskflow: ${(rawCpu / dfCpu).toFixed(2)} (the throughput ratio a CPU-bound machine would show)`,
    `flow process RSS: ${median(column(df, "rss_mib")).toFixed(0)} MiB after ${N} tasks (peak ${Math.max(...column(df, "peak_rss_mib")).toFixed(0)} MiB); ` +
      `bridge process ${median(column(df, "bridge_rss_mib")).toFixed(0)} MiB; raw client process ${median(column(raw, "rss_mib")).toFixed(0)} MiB`,
  ];
}

/** Prints the details of the start-up rounds; returns the figure line. */
function startupSummary(rawUp: Timings[], dfUp: Timings[]): string[] {
  const up = { raw: median(column(rawUp, "first_result_s")), df: median(column(dfUp, "first_result_s")) };
  const upBest = { raw: best(column(rawUp, "first_result_s")), df: best(column(dfUp, "first_result_s")) };
  const outside = { raw: median(column(rawUp, "spawn_to_first_result_s")), df: median(column(dfUp, "spawn_to_first_result_s")) };
  console.log(`  start-up raw        : ${secs(up.raw)} [${secs(upBest.raw)}]; spawn->first result ${secs(outside.raw)}`);
  console.log(`  start-up daskflow   : ${secs(up.df)} [${secs(upBest.df)}]; spawn->first result ${secs(outside.df)}`);
  const excess = up.df - up.raw;
  return [
    `start-up to first result daskflow - raw: ${excess >= 0 ? "+" : ""}${excess.toFixed(2)} s (goal <= +0.5 s, ${verdict(excess <= 0.5)}; ${secs(up.df)} vs ${secs(up.raw)})`,
  ];
}

if (process.argv.includes("--child")) {
  const what = process.argv[process.argv.indexOf("--child") + 1];
  if (what !== "startup") throw new Error(`unknown child workload ${what}`);
  await daskflowStartupChild();
} else {
  await main();
}
