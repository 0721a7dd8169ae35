/**
 * Run history benchmarks (issue 24), side by side in one process:
 *
 *   bash bench/run.sh history [dask|large|list]     # all three by default; BENCH_ROUNDS=3 BENCH_TASKS=2000
 *
 *   dask   recording on vs off on the DaskTaskRunner: the bench/dask.ts throughput workload (N trivial tasks on a
 *          warmed-up 2-worker cluster, submit + result of each), rounds alternating off, on, off, on, ...
 *                                                                       goal: throughput on/off >= 0.95
 *   large  one flow run of BENCH_LARGE (100,000) task runs, a batched map on Dask, recorded: the flow run's time
 *          with history on vs off, the flow process's CPU, the store's bytes per task run, and the timeline read
 *   list   the runs list with BENCH_RUNS (10,000) flow runs stored (seeded through the store's write API): first
 *          page, a deep page by cursor, and filtered pages           goal: < 200 ms per page
 *
 * Each round with history on records into a fresh SQLite file in a temp folder (removed at the end).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow, openHistory, type FlowRunRecord } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { inc } from "./dask-tasks.ts";
import { best, cpuOf, median } from "./stats.ts";

process.env.DASKFLOW_LOGGING_LEVEL ??= "WARNING";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const N = Number(process.env.BENCH_TASKS ?? 2000);
const LARGE = Number(process.env.BENCH_LARGE ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 10_000);
const CLUSTER_KWARGS = { n_workers: 2, threads_per_worker: 1, processes: true, host: "127.0.0.1", dashboard_address: "127.0.0.1:0" };

const dir = mkdtempSync(join(tmpdir(), "daskflow-bench-history-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
// One store for the whole process (the recorder opens it once): every "on" round records into it.
process.env.DASKFLOW_HISTORY_URL = join(dir, "history.db");
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU seconds of this process and every descendant (bridge, scheduler, workers, sidecars): steadier than wall
 * time on a shared machine, and what bounds throughput when every process shares the same two cores. */
const treeCpu = () => cpuOf([process.pid]);
const setHistory = (on: boolean) => (process.env.DASKFLOW_HISTORY = on ? "on" : "off");

const workFlow = flow({ name: "bench-history-work", taskRunner: new DaskTaskRunner({ clusterKwargs: CLUSTER_KWARGS }) }, async (n: number) => {
  for (let r = 0; r < 2; r++) await Promise.all(Array.from({ length: 20 }, (_, i) => inc.submit(i).result()));
  const c = cpu();
  const all = treeCpu();
  const t = performance.now();
  const futures = [];
  for (let i = 0; i < n; i++) futures.push(inc.submit(i));
  const values = await Promise.all(futures.map((f) => f.result()));
  if (values.reduce((a, b) => a + b, 0) !== (n * (n + 1)) / 2) throw new Error("wrong sum");
  return { throughput_s: (performance.now() - t) / 1000, cpu_s: cpu() - c, all_cpu_s: treeCpu() - all };
});

async function dask(): Promise<string[]> {
  console.log(`recording on vs off, DaskTaskRunner, ${N} trivial tasks, ${ROUNDS} alternating rounds per side; cluster ${JSON.stringify(CLUSTER_KWARGS)}`);
  type Round = Awaited<ReturnType<typeof workFlow>>;
  const off: Round[] = [];
  const on: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const recording of [false, true]) {
      setHistory(recording);
      const out = await workFlow(N);
      (recording ? on : off).push(out);
      console.log(`  round ${r + 1} history ${recording ? "on " : "off"}: ${Math.round(N / out.throughput_s)} tasks/s, flow process CPU ${out.cpu_s.toFixed(2)} s, all processes ${out.all_cpu_s.toFixed(2)} s`);
    }
  }
  const tp = (rows: typeof on) => median(rows.map((x) => N / x.throughput_s));
  const ratio = tp(on) / tp(off);
  const bestRatio = best(off.map((x) => x.throughput_s)) / best(on.map((x) => x.throughput_s));
  const cpuPerTask = (rows: typeof on, k: "cpu_s" | "all_cpu_s" = "cpu_s") => (median(rows.map((x) => x[k])) / N) * 1e6;
  return [
    `history on/off throughput (Dask, ${N} tasks): ${ratio.toFixed(3)} (goal >= 0.95, ${ratio >= 0.95 ? "goal met" : "GOAL MISSED"}; best-of ${bestRatio.toFixed(3)}; ${Math.round(tp(on))} vs ${Math.round(tp(off))} tasks/s)`,
    `CPU per task: flow process ${cpuPerTask(on).toFixed(0)} µs on vs ${cpuPerTask(off).toFixed(0)} µs off; all processes ${cpuPerTask(on, "all_cpu_s").toFixed(0)} vs ${cpuPerTask(off, "all_cpu_s").toFixed(0)} µs ` +
      `(CPU-cost ratio off/on ${(cpuPerTask(off, "all_cpu_s") / cpuPerTask(on, "all_cpu_s")).toFixed(3)}: the throughput ratio a CPU-bound machine would show)`,
  ];
}

async function large(): Promise<string[]> {
  const batchSize = 500;
  console.log(`one flow run of ${LARGE} task runs (batched map, batchSize ${batchSize}) on Dask, history off then on`);
  const big = flow({ name: "bench-history-large", taskRunner: new DaskTaskRunner({ clusterKwargs: CLUSTER_KWARGS }) }, async () => {
    const futures = inc.with({ batchSize }).map(Array.from({ length: LARGE }, (_, i) => i));
    await Promise.all(futures.map((f) => f.wait()));
    return futures.length;
  });
  const rounds: Record<string, { wall: number; cpu: number }> = {};
  for (const recording of [false, true]) {
    setHistory(recording);
    const c = cpu();
    const t = performance.now();
    await big();
    rounds[recording ? "on" : "off"] = { wall: (performance.now() - t) / 1000, cpu: cpu() - c };
    console.log(`  history ${recording ? "on " : "off"}: flow run ${rounds[recording ? "on" : "off"]!.wall.toFixed(2)} s, flow process CPU ${rounds[recording ? "on" : "off"]!.cpu.toFixed(2)} s`);
  }
  const store = await openHistory();
  try {
    const [run] = (await store.flowRuns({ flowName: "bench-history-large", limit: 1 })).items;
    if (!run) throw new Error("the large flow run was not recorded");
    const recorded = Object.values(run.taskCounts).reduce((a, b) => a + (b ?? 0), 0);
    await store.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    const file = process.env.DASKFLOW_HISTORY_URL!;
    const bytes = statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
    let t = performance.now();
    const timeline = await store.timeline(run.id);
    const timelineMs = performance.now() - t;
    t = performance.now();
    const firstPage = await store.taskRuns({ flowRunId: run.id, limit: 200 });
    const pageMs = performance.now() - t;
    if (timeline.ids.length !== LARGE || firstPage.items.length !== 200) throw new Error("short read");
    const { on, off } = rounds as { on: { wall: number; cpu: number }; off: { wall: number; cpu: number } };
    return [
      `${LARGE} task runs recorded: ${recorded} in the store; flow run ${on.wall.toFixed(2)} s on vs ${off.wall.toFixed(2)} s off (+${(on.wall - off.wall).toFixed(2)} s); flow process CPU +${(on.cpu - off.cpu).toFixed(2)} s (${(((on.cpu - off.cpu) / LARGE) * 1e6).toFixed(1)} µs per task run)`,
      `store size: ${(bytes / 1024 / 1024).toFixed(1)} MiB for the whole file (every run of this benchmark) = ${Math.round(bytes / LARGE)} bytes per task run (upper bound)`,
      `read of the ${LARGE}-task-run flow run: timeline (columnar) ${timelineMs.toFixed(0)} ms, first task-run page of 200 ${pageMs.toFixed(1)} ms`,
    ];
  } finally {
    await store.close();
  }
}

async function list(): Promise<string[]> {
  const store = await openHistory({ url: join(dir, "list.db") });
  try {
    const flows = ["etl", "train", "report", "ingest", "score"];
    const states = ["COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "CRASHED"] as const;
    const t0 = Date.now() - RUNS * 60_000;
    let t = performance.now();
    for (let start = 0; start < RUNS; start += 1000) {
      const batch: FlowRunRecord[] = [];
      for (let i = start; i < Math.min(RUNS, start + 1000); i++) {
        const state = states[i % states.length]!;
        batch.push({
          id: `run-${i}`, name: `run-${i}`, flowName: flows[i % flows.length]!, parameters: `(${i})`, state, stateName: state[0] + state.slice(1).toLowerCase(),
          startTime: t0 + i * 60_000, endTime: t0 + i * 60_000 + 5000, runner: "DaskTaskRunner", taskCounts: { COMPLETED: 100 }, updatedAt: t0 + i * 60_000 + 5000,
        });
      }
      await store.write({ flowRuns: batch });
    }
    console.log(`runs list: ${RUNS} flow runs seeded in ${((performance.now() - t) / 1000).toFixed(2)} s`);
    const time = async (what: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let r = 0; r < 20; r++) {
        t = performance.now();
        await what();
        samples.push(performance.now() - t);
      }
      return median(samples);
    };
    let cursor: string | undefined;
    for (let p = 0; p < 100; p++) cursor = (await store.flowRuns({ limit: 50, ...(cursor && { cursor }) })).nextCursor;
    const figures = {
      first: await time(() => store.flowRuns({ limit: 50 })),
      deep: await time(() => store.flowRuns({ limit: 50, cursor: cursor! })),
      flow: await time(() => store.flowRuns({ limit: 50, flowName: "train" })),
      state: await time(() => store.flowRuns({ limit: 50, state: ["FAILED", "CRASHED"] })),
      since: await time(() => store.flowRuns({ limit: 50, since: "24h" })),
      names: await time(() => store.flowNames()),
    };
    const worst = Math.max(figures.first, figures.deep, figures.flow, figures.state, figures.since);
    return [
      `runs list with ${RUNS} runs stored (SQLite, median of 20): first page of 50 ${figures.first.toFixed(2)} ms, page 101 by cursor ${figures.deep.toFixed(2)} ms, ` +
        `by flow ${figures.flow.toFixed(2)} ms, by state ${figures.state.toFixed(2)} ms, last 24h ${figures.since.toFixed(2)} ms, flow names ${figures.names.toFixed(2)} ms ` +
        `(goal < 200 ms per page, ${worst < 200 ? "goal met" : "GOAL MISSED"})`,
    ];
  } finally {
    await store.close();
  }
}

const which = process.argv[2] ?? "all";
if (!["all", "dask", "large", "list"].includes(which)) throw new Error(`bench/history.ts: unknown part '${which}' (all, dask, large, list)`);
const lines: string[] = [];
if (which === "all" || which === "list") lines.push(...(await list()));
if (which === "all" || which === "dask") lines.push(...(await dask()));
if (which === "all" || which === "large") lines.push(...(await large()));
console.log("");
for (const line of lines) console.log(line);
