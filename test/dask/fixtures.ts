/**
 * Real Dask processes for tests: `dask scheduler` and `dask worker` from the repo's .venv, bound to 127.0.0.1,
 * and a look at the process table to prove nothing is left behind.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before } from "node:test";

export const REPO = resolve(import.meta.dirname, "..", "..");
export const VENV_BIN = join(REPO, ".venv", "bin");
const env = () => ({ ...process.env, PYTHONPATH: join(REPO, "python") });

export interface TestCluster {
  address: string;
  workers: ChildProcess[];
  scheduler: ChildProcess;
  addWorker(options?: WorkerOptions): Promise<ChildProcess>;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  nthreads?: number;
  resources?: string;
  extra?: string[];
  env?: Record<string, string>;
}

export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The address in the scheduler file `file` once `dask scheduler` has written it whole (it writes the JSON in place,
 * so a read can meet an empty or partial file: that is "not yet", not an error). */
export function schedulerAddress(file: string): Promise<string> {
  return waitFor("the scheduler file", () => {
    try {
      return (JSON.parse(readFileSync(file, "utf8")) as { address?: string }).address;
    } catch {
      return undefined; // missing, or not written whole yet
    }
  });
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill(signal);
  });
}

/** A cluster for a whole test file: started before its first test, stopped after its last (node:test hooks). */
export function fileCluster(...args: Parameters<typeof startCluster>): TestCluster {
  let started: TestCluster | undefined;
  before(async () => {
    started = await startCluster(...args);
  });
  after(async () => {
    await started?.stop();
  });
  const get = (): TestCluster => {
    if (!started) throw new Error("the test cluster starts in a before hook: use it inside a test");
    return started;
  };
  return {
    get address() {
      return get().address;
    },
    get workers() {
      return get().workers;
    },
    get scheduler() {
      return get().scheduler;
    },
    addWorker: (options) => get().addWorker(options),
    stop: () => get().stop(),
  };
}

/** A scheduler plus `workers` worker processes; call stop() in an `after` hook. */
export async function startCluster(workers: WorkerOptions[] = [{}], schedulerEnv: Record<string, string> = {}, schedulerArgs: string[] = []): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-test-"));
  const schedulerFile = join(dir, "scheduler.json");
  const scheduler = spawn(
    join(VENV_BIN, "dask"),
    // --idle-timeout / --death-timeout: should this test process be killed before its `after` hook, the cluster
    // ends by itself instead of lingering.
    ["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", schedulerFile, "--idle-timeout", "300s", ...schedulerArgs],
    { env: { ...env(), ...schedulerEnv }, stdio: ["ignore", "ignore", "ignore"] },
  );
  const address = await schedulerAddress(schedulerFile);
  const started: ChildProcess[] = [];
  const addWorker = async (options: WorkerOptions = {}) => {
    const args = ["worker", address, "--host", "127.0.0.1", "--nthreads", String(options.nthreads ?? 1), "--nworkers", "1", "--no-dashboard", "--no-nanny", "--death-timeout", "20s"];
    if (options.resources) args.push("--resources", options.resources);
    args.push(...(options.extra ?? []));
    const worker = spawn(join(VENV_BIN, "dask"), args, { env: { ...env(), ...options.env }, stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    worker.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
    await waitFor("a worker to register", () => (/Registered to/.test(log) ? true : undefined));
    started.push(worker);
    return worker;
  };
  for (const options of workers) await addWorker(options);
  return {
    address,
    scheduler,
    workers: started,
    addWorker,
    async stop() {
      await Promise.all(started.map((w) => stopProcess(w)));
      await stopProcess(scheduler);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pids of all living descendants of `root` (default: this process), from /proc. */
export function descendants(root = process.pid): Array<{ pid: number; ppid: number; cmd: string }> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
      if (state === "Z") continue;
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const out: Array<{ pid: number; ppid: number; cmd: string }> = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      let cmd = "";
      try {
        cmd = readFileSync(`/proc/${child}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      } catch {
        continue;
      }
      out.push({ pid: child, ppid: pid, cmd });
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** Marks every process this test process starts from now on (they inherit the environment). */
export function markProcesses(): string {
  const mark = `daskflow-test-${process.pid}-${Math.random().toString(16).slice(2)}`;
  process.env.DASKFLOW_TEST_MARK = mark;
  return mark;
}

/** Living processes (other than this one) whose environment carries `mark`. */
export function markedProcesses(mark: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, "utf8").includes(`DASKFLOW_TEST_MARK=${mark}`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      found.push(`${entry} ${readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim()}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** Waits until no marked process is left (but the test's own `dask scheduler` / `dask worker` processes); returns
 * those still alive at the deadline. */
export async function waitForNoMarked(mark: string, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = markedProcesses(mark).filter((p) => !/dask (scheduler|worker)/.test(p));
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The keys of the tasks a scheduler holds now (asked with a Python client, as a Dask user would). */
export function schedulerTaskKeys(address: string): string[] {
  const code = `from distributed import Client\nc = Client("${address}", timeout=10)\nprint("\\n".join(map(str, c.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.tasks)))))\nc.close()`;
  return execFileSync(join(VENV_BIN, "python"), ["-c", code], { encoding: "utf8" }).split("\n").filter(Boolean);
}
