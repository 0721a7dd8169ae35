import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow, getRunContext, StateType, CrashedRunError } from "../../src/index.ts";
import { DaskTaskRunner, annotate } from "../../src/dask/index.ts";
import { exitProcess, fanOut, inc, killMyWorker, napMs, pidThenSpin, spin, whereAmI } from "./tasks.ts";
import { captureStderr } from "../helpers.ts";
import { REPO, descendants, markProcesses, fileCluster, waitForNoMarked } from "./fixtures.ts";

const mark = markProcesses();
// allowed-failures 0: the first worker death of a task makes it KilledWorker (Dask's own rule, made quick).
const cluster = fileCluster([{ nthreads: 1 }, { nthreads: 1 }], { DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES: "0" });

const onCluster = () => new DaskTaskRunner({ address: cluster.address });

test("a sidecar that exits mid-task ends that task CRASHED with the reason; the worker keeps serving", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const crashed = await exitProcess.submit(3).wait();
    const after = await Promise.all(inc.map([1, 2, 3, 4]).map((x) => x.result()));
    return { get: () => crashed, after };
  });
  const { get, after: values } = await f();
  const crashed = get();
  assert.equal(crashed.type, StateType.CRASHED);
  assert.match(crashed.message ?? "", /crashed: its Node sidecar .*(exit|code).*3/i);
  assert.deepEqual(values, [2, 3, 4, 5]);
});

test("a synchronous task past its timeout is stopped by recycling its sidecar", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const started = Date.now();
    const state = await spin.submit(120_000).wait();
    const elapsed = Date.now() - started;
    const next = await inc.submit(41).result();
    return { get: () => state, elapsed, next };
  });
  const { get, elapsed, next } = await f();
  const state = get();
  assert.equal(state.type, StateType.FAILED);
  assert.equal(state.name, "TimedOut");
  assert.match(state.message ?? "", /exceeded its timeout of 1s and did not yield; its sidecar was stopped and replaced/);
  assert.ok(elapsed < 20_000, `stopped after ${elapsed} ms, not after the 120 s loop`);
  assert.equal(next, 42);
});

test("a task that submits tasks uses its worker's scheduler, not a new cluster", async () => {
  const workerPids = new Set(cluster.workers.map((w) => w.pid));
  const f = flow({ taskRunner: onCluster() }, async () => fanOut.submit(3).result());
  const { self, children } = await f();
  assert.ok(workerPids.has(self));
  assert.equal(children.length, 3);
  for (const child of children) assert.ok(workerPids.has(child.workerPid), `nested task ran on worker ${child.workerPid}, not one of the cluster's`);
});

test("resources no worker offers give a warning naming the resource", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const stuck = annotate({ resources: { GPU: 1 } }, () => inc.submit(1));
    await new Promise((r) => setTimeout(r, 1500));
    const state = stuck.state.type;
    stuck.cancel();
    return state;
  });
  const { value, output } = await captureStderr(() => f());
  assert.notEqual(value, StateType.COMPLETED);
  assert.match(output, /WARNING .*No worker of the Dask cluster offers the resource 'GPU'.*clusterKwargs: \{ resources: \{ GPU: 1 \} \}/);
});

test("an unreachable address is a clear error within a bounded time", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: "tcp://127.0.0.1:9", clientKwargs: { timeout: 3 } }) }, async () => inc.submit(1).result());
  const started = Date.now();
  const state = await f.returnState();
  assert.ok(Date.now() - started < 30_000);
  assert.equal(state.type, StateType.CRASHED);
  assert.match(state.message ?? "", /127\.0\.0\.1:9/);
  assert.match(state.message ?? "", /[Tt]imed out|connect|Connection refused/);
});

test("a Python without distributed, or no Python at all, is a clear error naming the fix", async () => {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-bare-"));
  try {
    execFileSync("python3", ["-m", "venv", "--without-pip", join(dir, "venv")]);
    const bare = flow({ taskRunner: new DaskTaskRunner({ python: join(dir, "venv", "bin", "python") }) }, async () => inc.submit(1).result());
    const state = await bare.returnState();
    assert.equal(state.type, StateType.CRASHED);
    assert.match(state.message ?? "", /cannot import '(distributed|msgpack)'.*scripts\/setup-python\.sh.*DASKFLOW_PYTHON/s);
    const none = flow({ taskRunner: new DaskTaskRunner({ python: join(dir, "no-such-python") }) }, async () => inc.submit(1).result());
    const missing = await none.returnState();
    assert.match(missing.message ?? "", /was not found\. Run `npm run setup`|was not found/);
    assert.match(missing.message ?? "", /DASKFLOW_PYTHON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a worker killed mid-task: the task ends CRASHED (KilledWorker), other tasks are unaffected", async () => {
  await cluster.addWorker({ nthreads: 1 }); // keep two workers after this test kills one
  const f = flow({ taskRunner: onCluster() }, async () => {
    const killed = killMyWorker.submit();
    const state = await killed.wait();
    const others = await Promise.all(inc.map([10, 20, 30]).map((x) => x.result()));
    return { get: () => state, others };
  });
  const { get, others } = await f();
  const state = get();
  assert.equal(state.type, StateType.CRASHED);
  assert.match(state.message ?? "", /KilledWorker/);
  assert.ok(state.error instanceof CrashedRunError);
  assert.deepEqual(others, [11, 21, 31]);
});

test("a sidecar busy in synchronous code is ended when its worker dies", async () => {
  await cluster.addWorker({ nthreads: 1 }); // keep two workers after this test kills one
  const dir = mkdtempSync(join(tmpdir(), "daskflow-lifeline-"));
  const pidFile = join(dir, "sidecar.pid");
  const f = flow({ taskRunner: onCluster() }, async () => {
    const spinning = pidThenSpin.submit(pidFile, 120_000);
    const sidecar = await until(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : undefined), 30_000);
    const worker = parentOf(sidecar);
    assert.ok(worker && worker !== process.pid, "the sidecar runs under a Dask worker");
    process.kill(worker, "SIGKILL");
    const gone = await until(() => (alive(sidecar) ? undefined : true), 10_000);
    return { gone, state: (await spinning.wait()).type };
  });
  try {
    const { gone, state } = await f();
    assert.equal(gone, true, "the spinning sidecar ended within seconds of its worker");
    assert.equal(state, StateType.CRASHED);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the bridge dying fails every pending future, ends the flow CRASHED, and leaves no process", async () => {
  // Three threads: two run the long naps, the third answers `whereAmI` while the naps are still pending.
  const f = flow({ taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 3 } }) }, async () => {
    const pending = [napMs.submit(30_000), napMs.submit(30_000)];
    await new Promise((r) => setTimeout(r, 500));
    await whereAmI.submit().result(); // the cluster is up and running tasks
    const bridge = (getRunContext().taskRunner as DaskTaskRunner).bridgePid;
    assert.ok(bridge && descendants().some((p) => p.pid === bridge && p.cmd.includes("daskflow_bridge")), "the run's bridge process runs");
    process.kill(bridge, "SIGKILL");
    const states = await Promise.all(pending.map((p) => p.wait()));
    pendingStates = states.map((s) => `${s.type}: ${s.message}`);
  });
  let pendingStates: string[] = [];
  const started = Date.now();
  const state = await f.returnState();
  for (const s of pendingStates) assert.match(s, /^CRASHED: The Dask bridge process was killed by SIGKILL/);
  assert.equal(pendingStates.length, 2);
  assert.ok(Date.now() - started < 25_000, "the pending futures failed at once, not after their 30 s tasks");
  assert.equal(state.type, StateType.CRASHED);
  assert.match(state.message ?? "", /Dask bridge process was killed by SIGKILL/);
  // Without the bridge, its LocalCluster's worker processes notice their parent's death and exit on their own.
  assert.deepEqual(await waitForNoMarked(mark, 90_000), []);
});

test("a temporary cluster is torn down after success, a failed task and a thrown error", async () => {
  const runner = () => new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 1 } });
  const ok = flow({ taskRunner: runner() }, async () => {
    const ctx = getRunContext().taskRunner as DaskTaskRunner;
    const value = await inc.submit(1).result();
    return { value, address: ctx.cluster?.scheduler_address, dashboard: ctx.cluster?.dashboard_link };
  });
  const result = await ok();
  assert.equal(result.value, 2);
  assert.match(result.address ?? "", /^tcp:\/\/127\.0\.0\.1:\d+$/, "the scheduler binds to localhost");
  assert.match(result.dashboard ?? "", /^http:\/\/127\.0\.0\.1:\d+\/status$/, "the dashboard binds to localhost");
  assert.deepEqual(await waitForNoMarked(mark), []);
  const thrown = flow({ taskRunner: runner() }, async () => {
    await inc.submit(1).result();
    throw new Error("flow code failed");
  });
  assert.equal((await thrown.returnState()).type, StateType.FAILED);
  assert.deepEqual(await waitForNoMarked(mark), []);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`a temporary cluster is torn down when the flow process gets ${signal}`, async () => {
    // Started through Python, which resets SIGINT to its default: a test run from a background job inherits an
    // ignored SIGINT, which would make this test meaningless (Ctrl-C in a terminal uses the default).
    const reset = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])";
    const child = spawn("python3", ["-c", reset, process.execPath, "--import", "tsx", join(REPO, "test/dask/scripts/long-flow.ts")], {
      cwd: REPO,
      env: { ...process.env, DASKFLOW_LOGGING_LEVEL: "INFO" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const deadline = Date.now() + 60_000;
    while (!/long task started/.test(output)) {
      assert.ok(Date.now() < deadline, `the flow never started its task:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const exited = new Promise<boolean>((r) => child.once("exit", () => r(true)));
    child.kill(signal);
    const ended = await Promise.race([exited, new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
    if (!ended) child.kill("SIGKILL");
    assert.ok(ended, `the flow process did not end on ${signal}`);
    assert.deepEqual(await waitForNoMarked(mark, 30_000), []);
  });
}

test("a module whose flow call is at top level runs the flow once, not again on workers", async () => {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-marker-"));
  const marker = join(dir, "runs.txt");
  try {
    const out = execFileSync(process.execPath, ["--import", "tsx", join(REPO, "test/dask/scripts/top-level-flow.ts")], {
      cwd: REPO,
      env: { ...process.env, FLOW_MARKER_FILE: marker, DASK_ADDRESS: cluster.address },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    assert.match(out, /RESULT \[2,4,6\]/);
    assert.equal(readFileSync(marker, "utf8").trim().split("\n").length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Polls `probe` every 50 ms until it returns a value (or throws after `timeoutMs`). */
async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}
