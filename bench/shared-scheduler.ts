/**
 * A scheduler shared by many flow runs must not grow: 10 consecutive flow runs of the trivial workload (2,000 tasks)
 * against one `address=` cluster (`dask scheduler` + 2 `dask worker` processes), reporting the scheduler's RSS and
 * what it still holds (tasks, event topics, worker plugins) before, between and after.
 *   npx tsx bench/shared-scheduler.ts [runs] [tasks]
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";
import { inc } from "./dask-tasks.ts";

process.env.DASKFLOW_LOGGING_LEVEL = "WARNING";
const RUNS = Number(process.argv[2] ?? 10);
const TASKS = Number(process.argv[3] ?? 2000);
const bin = join(import.meta.dirname, "..", ".venv", "bin");
const env = { ...process.env, PYTHONPATH: join(import.meta.dirname, "..", "python") };

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

function held(address: string): string {
  const code = `from distributed import Client
c = Client("${address}", timeout=10)
tasks = c.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
topics = c.run_on_scheduler(lambda dask_scheduler: [t for t in dask_scheduler.get_events() if t.startswith("daskflow")])
plugins = sorted(n for names in c.run(lambda dask_worker: list(dask_worker.plugins)).values() for n in names if n.startswith("daskflow"))
print(f"tasks={tasks} daskflow-topics={len(topics)} daskflow-plugins={len(plugins)}")
c.close()`;
  return execFileSync(join(bin, "python"), ["-c", code], { env, encoding: "utf8" }).trim();
}

const dir = mkdtempSync(join(tmpdir(), "daskflow-bench-"));
const file = join(dir, "scheduler.json");
const procs: ChildProcess[] = [];
try {
  const scheduler = spawn(join(bin, "dask"), ["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", file], { env, stdio: "ignore" });
  procs.push(scheduler);
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 300));
  const address = (JSON.parse(readFileSync(file, "utf8")) as { address: string }).address;
  for (let i = 0; i < 2; i++) {
    procs.push(spawn(join(bin, "dask"), ["worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard"], { env, stdio: "ignore" }));
  }
  const work = flow({ name: "shared-trivial", taskRunner: new DaskTaskRunner({ address }) }, async () => {
    const futures = inc.map(Array.from({ length: TASKS }, (_, i) => i));
    let sum = 0;
    for (const f of futures) sum += await f.result();
    return sum;
  });
  await work(); // warm-up: workers up, first imports done
  await new Promise((r) => setTimeout(r, 2000));
  const before = rssMiB(scheduler.pid!);
  console.log(`scheduler RSS before: ${before.toFixed(1)} MiB (${held(address)})`);
  for (let run = 1; run <= RUNS; run++) {
    const t = performance.now();
    await work();
    console.log(`run ${run}: ${TASKS} tasks in ${((performance.now() - t) / 1000).toFixed(2)} s; scheduler RSS ${rssMiB(scheduler.pid!).toFixed(1)} MiB`);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssMiB(scheduler.pid!);
  console.log(`scheduler RSS after ${RUNS} runs: ${after.toFixed(1)} MiB (${held(address)})`);
  console.log(`scheduler growth over ${RUNS} runs of ${TASKS} tasks: ${(after - before).toFixed(1)} MiB (${(((after - before) / (RUNS * TASKS)) * 1000 * 1024).toFixed(1)} KiB per 1,000 tasks)`);
} finally {
  for (const p of procs.reverse()) p.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 1500));
  rmSync(dir, { recursive: true, force: true });
}
