/**
 * daskflow across hosts: a `dask scheduler` on the flow side's veth address, `dask worker`s in their own network
 * and mount namespaces (they see neither this repository, nor its node_modules, nor the flow's Node binary), the
 * flow's code shipped by the runner. The flow runs in a child process whose Node lives under the repository.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { REPO, markProcesses, waitForNoMarked } from "../dask/fixtures.ts";
import { MultiHostCluster } from "./cluster.ts";
import { leftovers, netnsUnavailable } from "./netns.ts";
import type { Placed } from "./tasks/hosts.ts";

const skip = netnsUnavailable();
if (skip) console.log(`# multi-host tests skipped: ${skip}`);
const mark = markProcesses();
let cluster: MultiHostCluster;

/** The flow's Node: this Node's binary, linked under the repository (hidden from the hosts). */
const FLOW_NODE = join(REPO, ".cache", "flow-node", "node");
const triangle = (n: number) => (n * (n + 1)) / 2;

before(async () => {
  if (skip) return;
  if (!existsSync(FLOW_NODE)) {
    mkdirSync(join(REPO, ".cache", "flow-node"), { recursive: true });
    try {
      linkSync(process.execPath, FLOW_NODE);
    } catch {
      copyFileSync(process.execPath, FLOW_NODE);
      chmodSync(FLOW_NODE, 0o755);
    }
  }
  // A host that drops off is noticed within ~20 s (Dask's defaults: 30 s TCP keepalive, 5 min heartbeat TTL).
  cluster = await MultiHostCluster.start({
    hosts: 2,
    schedulerEnv: { DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL: "10s", DASK_DISTRIBUTED__COMM__TIMEOUTS__TCP: "11s" },
  });
});
after(async () => {
  await cluster?.stop();
});

/**
 * Runs scripts/flow.ts `scenario` in a child process; `onPhase` sees its phase lines. Resolves with its result;
 * a flow that does not end within `boundMs` is killed and the test fails (no hang).
 */
function runFlow<T>(scenario: string, onPhase: (phase: Record<string, unknown>) => void | Promise<void> = () => {}, boundMs = 240_000): Promise<T> {
  const child: ChildProcess = spawn(FLOW_NODE, ["--import", "tsx", join(REPO, "test", "multihost", "scripts", "flow.ts"), scenario, cluster.address], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(-child.pid!, "SIGKILL");
      reject(new Error(`flow '${scenario}' did not end within ${boundMs / 1000} s:\n${log.slice(-4000)}`));
    }, boundMs);
    let buffer = "";
    let result: { value: T } | undefined;
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = JSON.parse(buffer.slice(0, nl)) as { phase?: string; result?: T };
        buffer = buffer.slice(nl + 1);
        if (line.phase) Promise.resolve(onPhase(line)).catch(reject);
        else result = { value: line.result as T };
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0 && result) resolve(result.value);
      else reject(new Error(`flow '${scenario}' exited with ${code}:\n${log.slice(-4000)}`));
    });
  });
}

function checkPlaced(placed: Placed, i: number): void {
  assert.equal(placed.i, i);
  assert.equal(placed.value, triangle(i), "computed by the helper module, through the npm package");
  assert.equal(placed.tag, "helper-v1");
  assert.equal(placed.seesRepository, false, `${placed.worker} sees the repository`);
  assert.notEqual(placed.node, FLOW_NODE, "the host used a Node of its own");
}

test("tasks that import a local module and an npm package run on both hosts, which cannot see the code", { skip }, async () => {
  const results = await runFlow<Placed[]>("spread");
  results.forEach((placed, i) => checkPlaced(placed, i));
  const used = new Set(results.map((p) => p.worker));
  assert.deepEqual([...used].sort(), cluster.workers.map((w) => w.address).sort(), "both hosts ran tasks");
  console.log(`# placement: ${results.map((p) => `${p.i}@${p.worker}`).join(" ")}; hosts' Node: ${[...new Set(results.map((p) => p.node))].join(", ")}`);
});

test("a task on a host submits tasks of its own: they run on the hosts too", { skip }, async () => {
  const result = await runFlow<{ parent: string; children: Placed[] }>("nested");
  assert.ok(cluster.workers.some((w) => w.address === result.parent), result.parent);
  result.children.forEach((p, i) => checkPlaced(p, i));
});

test("a worker started on a new host while the flow runs receives the code and runs tasks", { skip }, async () => {
  let started: string | undefined;
  const result = await runFlow<{ before: Placed[]; joined: string; after: Placed[] }>("join", async (phase) => {
    if (phase.phase === "ready-for-worker") started = (await cluster.startWorker()).address;
  });
  assert.equal(result.joined, started);
  assert.equal(cluster.network.hosts.length, 3);
  result.before.forEach((p, i) => checkPlaced(p, i));
  result.after.forEach((p, i) => checkPlaced(p, 10 + i));
  assert.ok(result.after.every((p) => p.worker === started), `ran on ${result.after.map((p) => p.worker).join(", ")}`);
});

test("a host whose link goes down mid-run: its tasks are rescheduled or CRASHED with the reason, never a hang", { skip }, async () => {
  let cut: string | undefined;
  const startedAt = Date.now();
  let cutAt = 0;
  const states = await runFlow<Array<{ type: string; message?: string; placed?: Placed }>>("cut", (phase) => {
    if (phase.phase !== "finished-one" || cut) return;
    const worker = cluster.workers.find((w) => w.address === phase.worker)!;
    cluster.network.linkDown(worker.host);
    cut = worker.address;
    cutAt = Date.now();
  });
  assert.ok(cut, "a host was cut off");
  console.log(`# link of ${cut} down ${((cutAt - startedAt) / 1000).toFixed(1)} s into the run; run ended ${((Date.now() - cutAt) / 1000).toFixed(1)} s later: ${states.map((s) => s.type).join(" ")}`);
  assert.equal(states.length, 10);
  for (const [i, state] of states.entries()) {
    if (state.type === "COMPLETED") checkPlaced(state.placed!, i);
    else {
      assert.equal(state.type, "CRASHED", `task ${i}: ${state.type} ${state.message}`);
      assert.match(state.message ?? "", /KilledWorker|worker/i);
    }
  }
  // The rest ran on the hosts still connected.
  const survivors = states.filter((s) => s.type === "COMPLETED" && s.placed!.worker !== cut);
  assert.ok(survivors.length > 0);
});

test("teardown leaves no namespace, veth pair or process", { skip }, async () => {
  const prefix = cluster.network.prefix;
  await cluster.stop();
  assert.deepEqual(leftovers(prefix), { namespaces: [], links: [] });
  assert.deepEqual(await waitForNoMarked(mark, 15_000), []);
});
