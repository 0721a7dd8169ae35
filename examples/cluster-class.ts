/**
 * Choosing the cluster a flow run creates with `clusterClass`, the counterpart of Prefect's `cluster_class`:
 *
 *   1. by name: a Python import path ("distributed.LocalCluster" here; "dask_kubernetes.operator.KubeCluster",
 *      "dask_jobqueue.SLURMCluster", "dask_cloudprovider.aws.FargateCluster"... work the same way when installed),
 *      created in the bridge process with `clusterKwargs`;
 *   2. by factory: an (async) function that receives `clusterKwargs` and returns which Python class to create,
 *      with which keyword arguments: `{ pythonClass, kwargs }`;
 *   3. by TypeScript class: a class implementing `DaskCluster` ({ address, close() }); here it starts a
 *      `dask scheduler` and `dask worker` from the project's `.venv` itself and stops them in `close()`, which the
 *      runner calls when the flow run ends.
 *
 * Each run creates its own temporary cluster and tears it down at the end.
 *
 *   npx tsx examples/cluster-class.ts
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow, task, getRunContext } from "daskflow";
import { DaskTaskRunner, type DaskCluster, type PythonClusterSpec } from "daskflow/dask";

export const whereAmI = task(async (i: number) => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { i, sidecar: process.pid, worker: process.ppid };
});

/** Runs four tasks and reports the cluster the runner made and how the tasks spread over its workers. */
export const probe = flow({ name: "probe" }, async () => {
  const results = await Promise.all(whereAmI.map([1, 2, 3, 4]).map((f) => f.result()));
  const runner = getRunContext().taskRunner as DaskTaskRunner;
  const workers = new Set(results.map((r) => r.worker)).size;
  return { cluster: runner.cluster?.cluster_repr ?? "?", address: runner.cluster?.scheduler_address ?? "?", workers };
});

// ---------------------------------------------------------------- 3. a cluster the TypeScript side manages

const DASK = join(process.cwd(), ".venv", "bin", "dask");

/** A scheduler and `n_workers` worker processes, started as child processes of this script. */
export class ProcessCluster implements DaskCluster {
  readonly address: Promise<string>;
  readonly #children: ChildProcess[] = [];
  readonly #dir = mkdtempSync(join(tmpdir(), "daskflow-example-"));

  constructor(kwargs: Record<string, unknown>) {
    // The runner passes `clusterKwargs` (snake_case) to the constructor.
    const nWorkers = Number(kwargs.n_workers ?? 1);
    const nThreads = Number(kwargs.threads_per_worker ?? 1);
    this.address = this.#start(nWorkers, nThreads);
    this.address.catch(() => {}); // the runner awaits it and reports a failure
  }

  async #start(nWorkers: number, nThreads: number): Promise<string> {
    const schedulerFile = join(this.#dir, "scheduler.json");
    this.#spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", schedulerFile]);
    await until("the scheduler", () => existsSync(schedulerFile));
    const { address } = JSON.parse(readFileSync(schedulerFile, "utf8")) as { address: string };
    const worker = this.#spawn(["worker", address, "--host", "127.0.0.1", "--nworkers", String(nWorkers), "--nthreads", String(nThreads), "--no-dashboard"]);
    await until("the workers", () => (worker.output.join("").match(/Registered to:/g) ?? []).length >= nWorkers);
    console.log(`ProcessCluster: dask scheduler pid ${this.#children[0]!.pid} at ${address}, ${nWorkers} worker(s) under pid ${worker.child.pid}`);
    return address;
  }

  #spawn(args: string[]): { child: ChildProcess; output: string[] } {
    const output: string[] = [];
    const child = spawn(DASK, args, { stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [child.stdout, child.stderr]) stream.on("data", (b: Buffer) => output.push(b.toString()));
    this.#children.push(child);
    return { child, output };
  }

  async close(): Promise<void> {
    for (const child of [...this.#children].reverse()) {
      // the workers first, then the scheduler
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
    console.log("ProcessCluster: closed (scheduler and workers stopped)");
  }
}

async function until(what: string, ready: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`ProcessCluster: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---------------------------------------------------------------- the three runs

const byName = new DaskTaskRunner({
  clusterClass: "distributed.LocalCluster",
  clusterKwargs: { n_workers: 2, threads_per_worker: 1 },
});

const byFactory = new DaskTaskRunner({
  clusterKwargs: { threads_per_worker: 2 },
  // Any (sync or async) function: it could read a config service, pick a queue, size by input...
  clusterClass: async (kwargs): Promise<PythonClusterSpec> => ({
    pythonClass: "distributed.LocalCluster",
    kwargs: { ...kwargs, n_workers: 1, processes: true },
  }),
});

const byTsClass = new DaskTaskRunner({
  clusterClass: ProcessCluster,
  clusterKwargs: { n_workers: 2, threads_per_worker: 1 },
});

export const clusterClassDemo = flow({ name: "cluster-class-demo" }, async () => {
  const runs: Array<[string, DaskTaskRunner]> = [
    ["1. by name     (\"distributed.LocalCluster\")", byName],
    ["2. by factory  (async fn -> { pythonClass, kwargs })", byFactory],
    ["3. by TS class (ProcessCluster implements DaskCluster)", byTsClass],
  ];
  const summary: string[] = [];
  for (const [label, taskRunner] of runs) {
    const r = await probe.withOptions({ taskRunner })();
    summary.push(`${label}: ${r.cluster} at ${r.address}; 4 tasks ran on ${r.workers} worker process(es)`);
  }
  return summary;
});

const summary = await clusterClassDemo();
console.log("");
for (const line of summary) console.log(line);
