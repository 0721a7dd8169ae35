/**
 * A Dask cluster across the namespaces of netns.ts: `dask scheduler` on the flow side's veth address (from the
 * repository's .venv), and one `dask worker` per host from the hosts' own venv (outside the repository, which the
 * hosts cannot see).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VENV_BIN, schedulerAddress, waitFor } from "../dask/fixtures.ts";
import { type Host, Network, hostVenv } from "./netns.ts";

export interface HostWorker {
  host: Host;
  process: ChildProcess;
  /** The worker's address as the scheduler knows it (tcp://<host address>:<port>). */
  address: string;
  /** What the worker printed so far (stderr: Dask's log). */
  log(): string;
}

export interface MultiHostOptions {
  hosts?: number;
  nthreads?: number;
  /** Dask configuration for the scheduler (e.g. how soon a silent worker counts as gone). */
  schedulerEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
}

export class MultiHostCluster {
  readonly workers: HostWorker[] = [];
  private constructor(
    readonly network: Network,
    readonly address: string,
    readonly venv: string,
    private readonly options: MultiHostOptions,
    private readonly dir: string,
  ) {}

  static async start(options: MultiHostOptions = {}): Promise<MultiHostCluster> {
    const venv = hostVenv();
    const network = Network.create(options.hosts ?? 2);
    const dir = mkdtempSync(join(tmpdir(), "daskflow-multihost-"));
    try {
      const file = join(dir, "scheduler.json");
      const scheduler = spawn(
        join(VENV_BIN, "dask"),
        ["scheduler", "--host", network.flowAddress, "--port", "0", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", file, "--idle-timeout", "600s"],
        { env: { ...process.env, ...options.schedulerEnv }, stdio: ["ignore", "ignore", "pipe"] },
      );
      network.track(scheduler);
      scheduler.stderr.resume();
      const address = await schedulerAddress(file);
      const cluster = new MultiHostCluster(network, address, venv, options, dir);
      await Promise.all(network.hosts.map((host) => cluster.startWorker(host)));
      return cluster;
    } catch (error) {
      network.destroy();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Starts a worker on `host` (default: a new host) and waits until it registered with the scheduler. */
  async startWorker(host: Host = this.network.addHost()): Promise<HostWorker> {
    const child = this.network.spawn(
      host,
      join(this.venv, "bin", "dask"),
      ["worker", this.address, "--host", host.address, "--name", `host-${host.index}`, "--nthreads", String(this.options.nthreads ?? 1),
        "--no-nanny", "--no-dashboard", "--death-timeout", "20s"],
      { env: { ...this.options.workerEnv } },
    );
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
    child.stdout!.resume();
    const address = await waitFor(`a worker on ${host.ns} to register`, () => {
      if (child.exitCode !== null) throw new Error(`the worker on ${host.ns} exited with ${child.exitCode}:\n${log}`);
      return /Registered to/.test(log) ? /Start worker at:\s+(\S+)/.exec(log)?.[1] : undefined;
    }, 60_000);
    const worker: HostWorker = { host, process: child, address, log: () => log };
    this.workers.push(worker);
    return worker;
  }

  async stop(): Promise<void> {
    try {
      await this.network.close();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
