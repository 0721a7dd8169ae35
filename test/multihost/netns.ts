/**
 * Several "hosts" on this machine: one network namespace per host, each joined by a veth pair to a bridge in this
 * (the flow's) namespace, on a /24 of 198.18.0.0/15 chosen here (flow side .1, hosts .2, .3, ...). No default
 * route, no NAT: nothing leaves the machine. A host's processes also get their own mount namespace with empty
 * tmpfs over the repository (and its main checkout) and over /tmp, so they see neither the flow's code nor its
 * node_modules, nor another host's files.
 *
 * Every namespace, link and process is named with a per-process prefix (`dfl<pid><letter>`) and removed by name and
 * pid at teardown, on process exit and on SIGINT/SIGTERM/SIGHUP; leftovers of a test process that was SIGKILLed are
 * swept by the next one (their pid is gone).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { REPO } from "../dask/fixtures.ts";

const PREFIX_RE = /^dfl(\d+)[a-z]/;

export interface Host {
  readonly index: number;
  /** The namespace's name. */
  readonly ns: string;
  readonly address: string;
  /** The veth end on the flow's side (what `linkDown` takes down). */
  readonly link: string;
}

export interface HostSpawnOptions {
  env?: Record<string, string>;
  /** Folders covered by an empty tmpfs in the host's mount namespace (default: the repository and its main checkout). */
  hide?: string[];
}

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function tryIp(...args: string[]): string | undefined {
  try {
    return ip(...args);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The namespaces and links on this machine whose names carry `prefix` (all of daskflow's when omitted). */
export function leftovers(prefix?: string): { namespaces: string[]; links: string[] } {
  const mine = (name: string) => (prefix ? name.startsWith(prefix) : PREFIX_RE.test(name));
  const namespaces = (tryIp("netns", "list") ?? "")
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n && mine(n));
  const links = (tryIp("-o", "link", "show") ?? "")
    .split("\n")
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && mine(n));
  return { namespaces, links };
}

/** Pids of the processes in namespace `ns`. */
function pidsIn(ns: string): number[] {
  return (tryIp("netns", "pids", ns) ?? "")
    .split("\n")
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

function removeNamespace(ns: string): void {
  for (const pid of pidsIn(ns)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  tryIp("netns", "del", ns);
}

/** Removes what test processes that no longer exist left behind (they were SIGKILLed, so could not clean up). */
export function sweepStale(): string[] {
  const { namespaces, links } = leftovers();
  const stale = (name: string) => !alive(Number(PREFIX_RE.exec(name)![1]));
  const swept = [...namespaces.filter(stale), ...links.filter(stale)];
  for (const ns of namespaces.filter(stale)) removeNamespace(ns);
  for (const link of links.filter(stale)) tryIp("link", "del", link);
  return swept;
}

/** Why namespaces cannot be made here (the reason to skip), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "network namespaces need root, and this test process is not root";
  try {
    execFileSync("bash", [join(REPO, "test", "multihost", "setup.sh")], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "");
    if (/missing; install them/.test(stderr)) return stderr.trim();
    throw error; // anything else is a failure to see, not a reason to skip
  }
  const probe = `dfl${process.pid}z`;
  try {
    ip("netns", "add", probe);
  } catch (error) {
    return `cannot create a network namespace: ${String((error as { stderr?: string }).stderr ?? error).trim()}`;
  }
  ip("netns", "del", probe);
  return undefined;
}

/** The remote hosts' Python environment (built by setup.sh once per content of python/). */
export function hostVenv(): string {
  const out = execFileSync("bash", [join(REPO, "test", "multihost", "setup.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return out.trim().split("\n").at(-1)!;
}

/** Where the repository's main checkout is when the repository is a git worktree (hidden from hosts too). */
function mainCheckout(): string | undefined {
  try {
    const common = execFileSync("git", ["rev-parse", "--path-format=absolute", "--git-common-dir"], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const main = dirname(common);
    return main !== REPO && existsSync(main) ? main : undefined;
  } catch {
    return undefined;
  }
}

/** A /24 of 198.18.0.0/15 that no interface here uses (starting from one derived from the pid, so that test
 * processes running at once pick different ones). */
function freeSubnet(): string {
  const used = new Set([...(tryIp("-o", "-4", "addr", "show") ?? "").matchAll(/inet (198\.1[89]\.\d+)\.\d+\//g)].map((m) => m[1]!));
  for (let i = 0; i < 510; i++) {
    const n = (process.pid + i) % 510;
    const subnet = n < 255 ? `198.18.${n + 1}` : `198.19.${n - 254}`;
    if (!used.has(subnet)) return subnet;
  }
  throw new Error("no free /24 left in 198.18.0.0/15");
}

const live = new Set<Network>();
let letters = 0;

export class Network {
  readonly prefix: string;
  readonly subnet: string;
  /** The flow side's address (this process's namespace), e.g. 198.18.7.1. */
  readonly flowAddress: string;
  readonly hosts: Host[] = [];
  readonly #bridge: string;
  readonly #processes = new Set<ChildProcess>();
  readonly #onHost = new WeakSet<ChildProcess>();
  #destroyed = false;

  private constructor() {
    this.prefix = `dfl${process.pid}${String.fromCharCode(97 + (letters++ % 25))}`;
    this.#bridge = `${this.prefix}br`;
    this.subnet = freeSubnet();
    this.flowAddress = `${this.subnet}.1`;
  }

  /** A bridge holding the flow side's address, and `hosts` hosts attached to it. */
  static create(hosts: number): Network {
    sweepStale();
    installCleanup();
    const network = new Network();
    live.add(network);
    try {
      ip("link", "add", network.#bridge, "type", "bridge");
      ip("addr", "add", `${network.flowAddress}/24`, "dev", network.#bridge);
      ip("link", "set", network.#bridge, "up");
      for (let i = 0; i < hosts; i++) network.addHost();
    } catch (error) {
      network.destroy();
      throw error;
    }
    return network;
  }

  /** One more host (a namespace with a veth pair to the bridge); may be called while a flow runs. */
  addHost(): Host {
    const index = this.hosts.length + 1;
    const ns = `${this.prefix}h${index}`;
    const link = `${this.prefix}v${index}`;
    const peer = `${this.prefix}p${index}`;
    const address = `${this.subnet}.${index + 1}`;
    ip("netns", "add", ns);
    const host: Host = { index, ns, address, link };
    this.hosts.push(host);
    ip("link", "add", link, "type", "veth", "peer", "name", peer, "netns", ns);
    ip("link", "set", link, "master", this.#bridge, "up");
    ip("-n", ns, "link", "set", peer, "name", "eth0");
    ip("-n", ns, "addr", "add", `${address}/24`, "dev", "eth0");
    ip("-n", ns, "link", "set", "eth0", "up");
    ip("-n", ns, "link", "set", "lo", "up");
    return host;
  }

  /**
   * Starts `command` on `host`: in its network namespace, in a mount namespace of its own with empty tmpfs over
   * the hidden folders and /tmp, with working directory /, and only the environment given (plus PATH, LANG, the
   * test's process mark, and HOME=/tmp so that nothing under ~ is shared between hosts).
   */
  spawn(host: Host, command: string, args: string[], options: HostSpawnOptions = {}): ChildProcess {
    const hide = options.hide ?? [REPO, ...(mainCheckout() ? [mainCheckout()!] : [])];
    const mounts = [...hide, "/tmp"].map((dir) => `mount -t tmpfs -o size=1g tmpfs '${dir.replaceAll("'", "'\\''")}'`).join(" && ");
    // HOME in the host's private /tmp: caches under ~ (shipped code, pip, npm) are per host, as on separate machines.
    const env: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8", TMPDIR: "/tmp", ...options.env };
    if (process.env.DASKFLOW_TEST_MARK) env.DASKFLOW_TEST_MARK = process.env.DASKFLOW_TEST_MARK;
    const child = spawn(
      "ip",
      ["netns", "exec", host.ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", `${mounts} && cd / && exec "$@"`, "sh", command, ...args],
      { cwd: "/", env, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#onHost.add(child);
    this.track(child);
    return child;
  }

  /** Tracks a process of the flow side (e.g. the scheduler) so teardown ends it too. */
  track(child: ChildProcess): ChildProcess {
    this.#processes.add(child);
    child.once("exit", () => this.#processes.delete(child));
    return child;
  }

  /** Pids of the processes this network tracks (flow side and hosts) that are still running. */
  pids(): number[] {
    return [...this.#processes].filter((c) => c.exitCode === null && c.signalCode === null).map((c) => c.pid!);
  }

  /** Cuts `host` off: its veth end on the flow side goes down (the host's processes keep running). */
  linkDown(host: Host): void {
    ip("link", "set", host.link, "down");
  }

  /** The host's view of its routes (to show there is no default route). */
  routes(host: Host): string {
    return ip("-n", host.ns, "route", "show");
  }

  /** Ends the hosts' processes, then the flow side's (SIGTERM, SIGKILL after `graceMs`), then destroys the network. */
  async close(graceMs = 10_000): Promise<void> {
    const stop = (children: ChildProcess[]) =>
      Promise.all(
        children
          .filter((c) => c.exitCode === null && c.signalCode === null)
          .map(
            (child) =>
              new Promise<void>((resolve) => {
                const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
                child.once("exit", () => {
                  clearTimeout(timer);
                  resolve();
                });
                child.kill("SIGTERM");
              }),
          ),
      );
    // Workers first: a worker whose scheduler is gone waits for it before it exits.
    await stop([...this.#processes].filter((c) => this.#onHost.has(c)));
    await stop([...this.#processes]);
    this.destroy();
  }

  /** Synchronous and idempotent (also run on exit and on signals): every process, namespace and link, by name. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const child of this.#processes) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const host of this.hosts) removeNamespace(host.ns);
    const { namespaces, links } = leftovers(this.prefix);
    for (const ns of namespaces) removeNamespace(ns);
    for (const link of links) tryIp("link", "del", link);
    live.delete(this);
  }
}

let installed = false;
function installCleanup(): void {
  if (installed) return;
  installed = true;
  const destroyAll = () => {
    for (const network of [...live]) network.destroy();
  };
  process.on("exit", destroyAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      destroyAll();
      // Nobody else handles it: end as the signal would have.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
