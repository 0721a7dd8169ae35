/**
 * Connecting to an existing Dask cluster by address, the counterpart of Prefect's
 * `DaskTaskRunner(address="tcp://...")`.
 *
 * To be self-contained, the example starts the "existing" cluster itself: a `dask scheduler` and one `dask worker`
 * from the project's `.venv`, on 127.0.0.1 with free ports. Two flow runs then share it. The runner connects and
 * never shuts the scheduler down, so the second run finds it still there, with the same worker process.
 * The scheduler and worker are stopped in a `finally` block, also on Ctrl-C.
 *
 * The set-up lives inside a flow (`sharedClusterDemo`) rather than at the top of the module: a Dask worker imports
 * this module to find `whoRan`, and flow calls do not run there, so the worker does not start clusters of its own.
 *
 *   npx tsx examples/existing-scheduler.ts
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow, task, getRunContext } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";

export const whoRan = task(async (run: string, i: number) => {
  await new Promise((resolve) => setTimeout(resolve, 100));
  return `${run} #${i}: ${getRunContext().taskRun?.name} in sidecar pid ${process.pid} of worker pid ${process.ppid}`;
});

/** One flow; each call below gets its own DaskTaskRunner pointed at the shared scheduler. */
export const report = flow({ name: "report" }, async (run: string) => {
  return Promise.all(whoRan.map(run, [1, 2, 3]).map((f) => f.result()));
});

const DASK = join(process.cwd(), ".venv", "bin", "dask");

/** Starts a `dask` sub-command; its output is kept and shown only if it fails. */
function startDask(args: string[]): { child: ChildProcess; output: string[] } {
  const output: string[] = [];
  // Same process group as this script: Ctrl-C in the terminal reaches the scheduler and worker too.
  const child = spawn(DASK, args, { stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout, child.stderr]) stream.on("data", (b: Buffer) => output.push(b.toString()));
  child.on("exit", (code, signal) => {
    if (code && !signal) process.stderr.write(`dask ${args[0]} exited with code ${code}:\n${output.join("")}\n`);
  });
  return { child, output };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

export const sharedClusterDemo = flow({ name: "shared-cluster-demo" }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-example-"));
  const schedulerFile = join(dir, "scheduler.json");
  const children: ChildProcess[] = [];
  const onSigint = () => {
    console.log("\nInterrupted: stopping the scheduler and worker");
    void (async () => {
      for (const child of [...children].reverse()) await stop(child);
    })().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSigint);
  try {
    // --port 0: a free port, written to the scheduler file; the dashboard also on a free port, on localhost.
    const scheduler = startDask(["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", schedulerFile]);
    children.push(scheduler.child);
    const address = await waitFor("the scheduler file", () =>
      existsSync(schedulerFile) ? (JSON.parse(readFileSync(schedulerFile, "utf8")) as { address: string }).address : undefined,
    );
    const worker = startDask(["worker", address, "--host", "127.0.0.1", "--nworkers", "1", "--nthreads", "2", "--no-dashboard"]);
    children.push(worker.child);
    await waitFor("the worker", () => (worker.output.join("").includes("Registered to:") ? true : undefined));
    console.log(`Started dask scheduler (pid ${scheduler.child.pid}) at ${address} and one dask worker (pid ${worker.child.pid})\n`);

    // Two flow runs, one after the other, each with a runner connected to the same scheduler.
    const runner = new DaskTaskRunner({ address });
    const first = await report.withOptions({ taskRunner: runner })("first run");
    const second = await report.withOptions({ taskRunner: runner })("second run");

    const alive = scheduler.child.exitCode === null && worker.child.exitCode === null;
    return { address, results: [...first, ...second], alive };
  } finally {
    process.off("SIGINT", onSigint);
    const stopping = Date.now();
    for (const child of children.reverse()) await stop(child); // the worker first, then the scheduler
    rmSync(dir, { recursive: true, force: true });
    console.log(`\nStopped the dask worker and scheduler in ${((Date.now() - stopping) / 1000).toFixed(1)} s`);
  }
});

const { address, results, alive } = await sharedClusterDemo();
console.log(`\nBoth flow runs used the scheduler at ${address}:`);
for (const line of results) console.log(`  ${line}`);
console.log(`Scheduler and worker were still running after both runs (the runner never shut them down): ${alive}`);
