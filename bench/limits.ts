/**
 * Concurrency limits and hooks on Dask (docs/hooks-and-limits.md), side by side on one `address=` cluster
 * (`dask scheduler` + 2 `dask worker` processes × 2 threads = 4 slots), rounds alternating:
 *   free     BENCH_LIMIT_TASKS (500) tasks sleeping BENCH_NAP_MS (80) ms, no limit
 *   limited  the same tasks tagged 'db' under concurrencyLimits { db: 4 }   goal: <= 1.1 × ideal (tasks / 4 × nap)
 *   hooked   the same, untagged, with onRunning + onCompletion hooks on each
 *
 *   PYTHONPATH=$PWD/python bash bench/run.sh limits   # the bridge of this checkout (the .venv's may be another's)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { napFree, napHooked, napLimited } from "./limits-tasks.ts";
import { median } from "./stats.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const TASKS = Number(process.env.BENCH_LIMIT_TASKS ?? 500);
const NAP = Number(process.env.BENCH_NAP_MS ?? 80);
const SLOTS = 4;
const bin = join(import.meta.dirname, "..", ".venv", "bin");
const env = { ...process.env, PYTHONPATH: join(import.meta.dirname, "..", "python") };

const dir = mkdtempSync(join(tmpdir(), "daskflow-bench-limits-"));
const file = join(dir, "scheduler.json");
const procs: ChildProcess[] = [];
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const p of procs) p.kill("SIGTERM"); // the cluster ends with this process
    process.exit(130);
  });
}
try {
  procs.push(spawn(join(bin, "dask"), ["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", file], { env, stdio: "ignore" }));
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 300));
  const address = (JSON.parse(readFileSync(file, "utf8")) as { address: string }).address;
  for (let i = 0; i < 2; i++) {
    procs.push(spawn(join(bin, "dask"), ["worker", address, "--host", "127.0.0.1", "--nthreads", "2", "--no-dashboard"], { env, stdio: "ignore" }));
  }
  const kinds = {
    free: flow({ name: "free", taskRunner: new DaskTaskRunner({ address }) }, () => Promise.all(napFree.map(Array(TASKS).fill(NAP)).map((f) => f.result()))),
    limited: flow({ name: "limited", taskRunner: new DaskTaskRunner({ address, concurrencyLimits: { db: SLOTS } }) }, () =>
      Promise.all(napLimited.map(Array(TASKS).fill(NAP)).map((f) => f.result())),
    ),
    hooked: flow({ name: "hooked", taskRunner: new DaskTaskRunner({ address }) }, () => Promise.all(napHooked.map(Array(TASKS).fill(NAP)).map((f) => f.result()))),
  };
  // Warm-up: workers up, sidecars started, the module imported.
  for (const kind of Object.values(kinds)) await kind();
  // Two figures per run: the whole flow run (with its runner's start-up: a bridge process per flow run) and the
  // tasks' span, first start to last end on the workers (what a limit can stretch).
  const times: Record<string, number[]> = { free: [], limited: [], hooked: [] };
  const spans: Record<string, number[]> = { free: [], limited: [], hooked: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, run] of Object.entries(kinds)) {
      const t = performance.now();
      const ran = await run();
      times[name]!.push((performance.now() - t) / 1000);
      spans[name]!.push((Math.max(...ran.map((r) => r[1])) - Math.min(...ran.map((r) => r[0]))) / 1000);
      console.log(`round ${round} ${name}: flow run ${times[name]!.at(-1)!.toFixed(2)} s, tasks' span ${spans[name]!.at(-1)!.toFixed(2)} s`);
    }
  }
  const ideal = (TASKS / SLOTS) * (NAP / 1000);
  console.log(`\n${TASKS} tasks × ${NAP} ms on ${SLOTS} slots; ideal ${ideal.toFixed(2)} s; median of ${ROUNDS} round(s) (a shared machine: figures are noisy)`);
  for (const [name, list] of Object.entries(times)) {
    const m = median(list);
    const s = median(spans[name]!);
    console.log(`  ${name.padEnd(8)} flow run ${m.toFixed(2)} s = ${(m / ideal).toFixed(3)} × ideal (${(m / median(times.free!)).toFixed(3)} × free); tasks' span ${s.toFixed(2)} s = ${(s / ideal).toFixed(3)} × ideal`);
  }
  const limited = median(spans.limited!) / ideal;
  console.log(`  goal: the limited tasks finish within 1.1 × ideal (their span): ${limited.toFixed(3)}, ${limited <= 1.1 ? "met" : "NOT met"}`);
} finally {
  for (const p of procs.reverse()) p.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 1500));
  rmSync(dir, { recursive: true, force: true });
}
