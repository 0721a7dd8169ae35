/**
 * The multi-host harness itself, checked with the official Dask client alone: two hosts in their own network and
 * mount namespaces that see neither the repository nor a route off the machine, plain Python tasks on both, and
 * nothing left behind — after a teardown, after Ctrl-C of the process that made the network, and after its
 * SIGKILL (swept by the next one).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, VENV_BIN, markProcesses, waitFor, waitForNoMarked } from "../dask/fixtures.ts";
import { MultiHostCluster } from "./cluster.ts";
import { leftovers, netnsUnavailable, sweepStale } from "./netns.ts";

const skip = netnsUnavailable();
if (skip) console.log(`# multi-host tests skipped: ${skip}`);
const mark = markProcesses();
let cluster: MultiHostCluster | undefined;

before(async () => {
  if (!skip) cluster = await MultiHostCluster.start({ hosts: 2 });
});
after(async () => {
  await cluster?.stop();
});

test("each host has its own address on 198.18.0.0/15, no default route, and sees neither the repository nor the flow side's /tmp", { skip }, () => {
  const c = cluster!;
  const marker = mkdtempSync(join(tmpdir(), "daskflow-flow-side-"));
  const hidden = [join(REPO, "package.json"), join(REPO, "node_modules"), join(REPO, "src"), marker];
  const out = execFileSync(join(VENV_BIN, "python"), [join(REPO, "test", "multihost", "probe.py"), c.address, "40", ...hidden], { encoding: "utf8" });
  const { views, placed } = JSON.parse(out) as {
    views: Record<string, { visible: Record<string, boolean>; tmp: string[]; routes: string; python: string }>;
    placed: Array<[number, string]>;
  };
  assert.match(c.address, /^tcp:\/\/198\.1[89]\.\d+\.1:\d+$/);
  assert.deepEqual(Object.keys(views).sort(), c.workers.map((w) => w.address).sort());
  // Hosts are .2, .3, ... of the test's subnet (in whatever order their workers registered).
  const hosts = c.workers.map((w) => w.address.replace(/:\d+$/, "")).sort();
  assert.deepEqual(hosts, c.workers.map((_, i) => `tcp://${c.network.subnet}.${i + 2}`).sort());
  for (const [address, view] of Object.entries(views)) {
    assert.deepEqual(view.visible, Object.fromEntries(hidden.map((p) => [p, false])), `${address} sees the repository`);
    assert.ok(view.python.startsWith(c.venv), `${address} runs ${view.python}`);
    assert.doesNotMatch(view.routes, /default/, `${address} has a default route`);
    assert.match(view.routes, new RegExp(`^${c.network.subnet.replaceAll(".", "\\.")}\\.0/24 dev eth0`));
  }
  for (const host of c.network.hosts) assert.doesNotMatch(c.network.routes(host), /default/);
  // Plain Python tasks land on both hosts.
  assert.deepEqual(placed.map(([i]) => i), Array.from({ length: 40 }, (_, i) => i));
  assert.deepEqual(new Set(placed.map(([, w]) => w)), new Set(c.workers.map((w) => w.address)));
  rmSync(marker, { recursive: true });
});

test("teardown leaves no namespace, link or process", { skip }, async () => {
  const prefix = cluster!.network.prefix;
  await cluster!.stop();
  cluster = undefined;
  assert.deepEqual(leftovers(prefix), { namespaces: [], links: [] });
  assert.deepEqual(await waitForNoMarked(mark, 10_000), []);
});

/** Runs scripts/hold-network.ts; resolves with what it printed once it holds a network with a host process. */
function holdNetwork(): Promise<{ child: ReturnType<typeof spawn>; prefix: string; pid: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "test", "multihost", "scripts", "hold-network.ts")], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.stdout.once("data", (chunk: Buffer) => resolve({ child, ...(JSON.parse(chunk.toString()) as { prefix: string; pid: number }) }));
    child.once("exit", (code) => reject(new Error(`hold-network exited with ${code} before holding a network`)));
  });
}

const exited = (child: ReturnType<typeof spawn>) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once("exit", resolve)));
/** Whether `pid` is a living process (not a zombie), waiting up to 5 s for it to be gone. */
async function running(pid: number): Promise<boolean> {
  const alive = () => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  return alive();
}

test("Ctrl-C of the process that made the network removes its namespaces, links and host processes", { skip }, async () => {
  const { child, prefix, pid } = await holdNetwork();
  assert.equal(leftovers(prefix).namespaces.length, 1);
  // ip netns exec → unshare → sh → sleep, one exec after another in the same process.
  await waitFor("the host process to become sleep", () => (readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("sleep") ? true : undefined), 15_000);
  child.kill("SIGINT");
  await exited(child);
  assert.equal(child.signalCode, "SIGINT");
  assert.deepEqual(leftovers(prefix), { namespaces: [], links: [] });
  assert.equal(await running(pid), false);
});

test("what a SIGKILLed test process left is swept by the next one", { skip }, async () => {
  const { child, prefix, pid } = await holdNetwork();
  child.kill("SIGKILL");
  await exited(child);
  assert.equal(leftovers(prefix).namespaces.length, 1, "a SIGKILLed process cannot clean up");
  assert.ok(sweepStale().some((name) => name.startsWith(prefix)));
  assert.deepEqual(leftovers(prefix), { namespaces: [], links: [] });
  assert.equal(await running(pid), false);
});
