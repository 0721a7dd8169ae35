/**
 * `npx daskflow doctor [--address tcp://…]`: what a flow in this folder would use (Node, the environment, Python,
 * the versions of Dask and the bridge), and with --address the scheduler's and workers' versions. Each problem is
 * printed with the command that fixes it; the exit code is 1 when there is one.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ENV_DIR, findProjectRoot } from "../dask/environment.ts";
import { PACKAGE_ROOT, choosePython } from "../dask/paths.ts";
import { MIN_NODE_TEXT, nodeSupported } from "../node-support.ts";
import { version } from "../version.ts";
import { REQUIREMENTS, inputsHash, pins } from "./inputs.ts";
import { run } from "./run.ts";
import { readStamp } from "./stamp.ts";
import { CORE_DISTRIBUTIONS, installedVersions } from "./versions.ts";

export const usage = `npx daskflow doctor [--address tcp://HOST:PORT]
  Prints Node (flagged below 22.13), the Python environment a flow here would use, and its
  distributed/dask/daskflow-bridge versions; with --address also the scheduler's and workers' versions (mismatches
  flagged). Exit code 1 on any problem.`;

/** Runs in the environment's Python: the cluster's versions, as Dask reports them, and the bridge on each worker. */
const CLUSTER_PROBE = `import json, sys
from distributed import Client
def bridge():
    import importlib.metadata as m
    try:
        return m.version("daskflow-bridge")
    except m.PackageNotFoundError:
        return None
with Client(sys.argv[1], timeout=10) as client:
    versions = client.get_versions(check=False)
    bridges = client.run(bridge)
print(json.dumps({"client": versions["client"]["packages"], "scheduler": versions["scheduler"]["packages"], "workers": {a: {**v["packages"], "daskflow-bridge": bridges.get(a)} for a, v in versions["workers"].items()}}))`;

/** Versions compared between this environment and the cluster's processes. */
const COMPARED = ["python", "distributed", "dask", "msgpack", "cloudpickle", "daskflow-bridge"];

export function doctor(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { address: { type: "string" } } });
  const problems: string[] = [];
  const problem = (what: string, fix: string) => {
    problems.push(what);
    console.log(`  ✗ ${what}\n    fix: ${fix}`);
  };
  const show = (label: string, value: string) => console.log(`${label.padEnd(17)} ${value}`);

  const root = findProjectRoot(process.cwd());
  show("Node", `${process.version} (${process.execPath})`);
  const node = nodeProblem(process.version, root);
  if (node) problem(node.what, node.fix);
  show("daskflow", `${version} (${PACKAGE_ROOT})`);
  show("project root", root ?? "(no package.json here or above)");
  const python = choosePython(undefined);
  show("environment", `${python.path} (from ${python.source})`);
  const expectedVenv = root ? join(root, ENV_DIR) : undefined;
  const local = installedVersions(python.path, [...CORE_DISTRIBUTIONS, "cloudpickle"]);
  if (!local) {
    problem(`Python '${python.path}' does not run`, "npx daskflow setup (at the project root), or set DASKFLOW_PYTHON");
    return finish(problems);
  }
  show("Python", local.python);
  for (const name of CORE_DISTRIBUTIONS) show(name, local.versions[name] ?? "missing");
  const missing = CORE_DISTRIBUTIONS.filter((name) => !local.versions[name]);
  if (missing.length) problem(`the environment lacks ${missing.join(", ")}`, "npx daskflow setup");
  const bridge = local.versions["daskflow-bridge"];
  if (bridge && bridge !== version) problem(`daskflow-bridge ${bridge} differs from daskflow ${version}`, "npx daskflow setup");
  for (const pin of pins(REQUIREMENTS)) {
    const [name, pinned] = pin.split(";")[0]!.trim().split("==");
    if (!name || !pinned || !["distributed", "dask", "msgpack"].includes(name)) continue;
    const have = local.versions[name];
    if (have && have !== pinned) problem(`${name} ${have} is not the pinned ${pinned}`, "npx daskflow setup");
  }
  if (expectedVenv && python.path.startsWith(expectedVenv)) {
    const stamp = readStamp(expectedVenv);
    if (!stamp || stamp.hash !== inputsHash(process.env.DASKFLOW_PYTHON ?? stamp.base, stamp.extras)) {
      problem(`${expectedVenv} was not set up by this daskflow ${version} (or setup did not finish)`, "npx daskflow setup");
    } else if (stamp.extras.length) show("extras", stamp.extras.join(", "));
  }

  if (values.address) {
    const probe = run(python.path, ["-c", CLUSTER_PROBE, values.address]);
    if (!probe.ok) {
      problem(`cannot read versions from ${values.address}: ${probe.stderr.trim().split("\n").at(-1)}`, "check the address (npx daskflow doctor --address tcp://HOST:PORT) and that the scheduler runs");
    } else {
      type Packages = Record<string, string | null>;
      const cluster = JSON.parse(probe.stdout) as { client: Packages; scheduler: Packages; workers: Record<string, Packages> };
      // Compared as Dask reports them on each side (e.g. python "3.11.7.final.0").
      const mine: Packages = { ...cluster.client, "daskflow-bridge": local.versions["daskflow-bridge"] ?? null };
      const compare = (who: string, theirs: Record<string, string | null>, fix: string) => {
        const differ = COMPARED.filter((name) => name in theirs && theirs[name] !== mine[name] && !(who === "scheduler" && name === "daskflow-bridge"));
        show(who, COMPARED.filter((name) => name in theirs).map((name) => `${name} ${theirs[name] ?? "missing"}${differ.includes(name) ? " ✗" : ""}`).join(", "));
        if (differ.length) problem(`${who} differs from this environment: ${differ.map((n) => `${n} ${theirs[n] ?? "missing"} (here ${mine[n] ?? "missing"})`).join(", ")}`, fix);
      };
      const pinnedInstall = "install the same versions there: pip install -r python/requirements.lock from this daskflow, and the bridge (pip install daskflow-bridge==" + version + ")";
      compare("scheduler", cluster.scheduler, pinnedInstall);
      const workers = Object.entries(cluster.workers);
      if (!workers.length) show("workers", "none connected");
      for (const [address, packages] of workers) compare(`worker ${address}`, packages, pinnedInstall);
    }
  }
  return finish(problems);
}

/** A flow process on a Node daskflow does not support: what, and the fix (in daskflow's own repository, its script). */
export function nodeProblem(nodeVersion: string, projectRoot: string | undefined): { what: string; fix: string } | undefined {
  if (nodeSupported(nodeVersion)) return undefined;
  const repoScript = projectRoot !== undefined && existsSync(join(projectRoot, "scripts", "node.sh")) && existsSync(join(projectRoot, "src", "node-support.ts"));
  return {
    what: `Node ${nodeVersion} is older than ${MIN_NODE_TEXT}, the lowest Node daskflow supports`,
    fix: `install Node.js 24 (or ${MIN_NODE_TEXT} or newer), e.g. from https://nodejs.org or \`nvm install 24\`, and run flows with it` +
      (repoScript ? "; in daskflow's repository, `bash scripts/node.sh CMD` runs CMD on the pinned Node 24 (npm start and npm test do)" : ""),
  };
}

function finish(problems: string[]): number {
  console.log(problems.length ? `${problems.length} problem(s) found` : "no problems found");
  return problems.length ? 1 : 0;
}
