/**
 * A new user's path, for real: `npm pack` this repository, install the tarball and tsx into a fresh project in a
 * temporary folder, `npx daskflow setup`, run the README's flow (test/package/project/flow.ts) on a LocalCluster from
 * the project root, a subfolder and outside the project; then setup's second run, doctor (also against a running
 * scheduler), a bridge of another version, and the error paths a missing or bare Python gives. The suite runs on
 * Node 24; a second project does the same from the tarball on the lowest supported Node 22 (scripts/node.sh's pin).
 * pip's downloads stay in the repo's .cache/pip, so a second run (and CI's) installs from the cache.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO, type TestCluster, startCluster } from "../dask/fixtures.ts";
import { pinnedNodeBin } from "../helpers.ts";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string; devDependencies: Record<string, string> };
const PIP_CACHE = join(REPO, ".cache", "pip");
let dir: string;
let project: string;
let tarball: string;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command as the user types it, with a clean environment (no DASKFLOW_PYTHON, no test-runner variables). */
async function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Ran> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DASKFLOW_PYTHON|NODE_TEST_CONTEXT|NODE_OPTIONS|TSX_TSCONFIG_PATH)$/.test(k)));
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd,
      env: { ...base, PIP_CACHE_DIR: PIP_CACHE, DASKFLOW_LOGGING_LEVEL: "WARNING", ...env },
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== "number") throw error;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const ok = (ran: Ran, what: string) => {
  assert.equal(ran.code, 0, `${what} failed:\n${ran.stdout}\n${ran.stderr}`);
  return ran;
};
const RESULT = "sum of squares 1..10 = 385";

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "daskflow-install-"));
  project = join(dir, "my-project");
  mkdirSync(join(project, "src", "deep"), { recursive: true });
  ok(await sh("npm", ["pack", "--silent", "--pack-destination", dir], REPO), "npm pack"); // runs `prepare`: builds dist/
  const packed = readdirSync(dir).find((name) => name.endsWith(".tgz"));
  assert.ok(packed, "npm pack made a tarball");
  tarball = join(dir, packed);
  // The README's commands, from an empty folder.
  ok(await sh("npm", ["init", "-y"], project), "npm init");
  ok(await sh("npm", ["pkg", "set", "type=module"], project), "npm pkg set");
  ok(await sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, `tsx@${pkg.devDependencies.tsx}`], project), "npm install");
  cpSync(join(REPO, "test", "package", "project", "flow.ts"), join(project, "flow.ts"));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("the tarball holds the built package with types, maps into shipped sources, the bridge and its lock files", () => {
  const installed = join(project, "node_modules", "daskflow");
  for (const file of ["dist/index.js", "dist/index.d.ts", "dist/dask/index.d.ts", "dist/cli/index.js", "src/core/flow.ts", "python/pyproject.toml", "python/requirements.lock", "python/requirements-dataframe.lock", "python/daskflow_bridge/collections/__init__.py"]) {
    assert.doesNotThrow(() => readFileSync(join(installed, file)), `${file} is in the package`);
  }
  const map = JSON.parse(readFileSync(join(installed, "dist", "core", "flow.js.map"), "utf8")) as { sources: string[] };
  for (const source of map.sources) assert.doesNotThrow(() => readFileSync(join(installed, "dist", "core", source)), `the map's source ${source} is shipped`);
  assert.ok(!readdirSync(join(installed, "python")).includes("tests"), "python tests are not shipped");
});

test("npx daskflow setup creates .daskflow/venv at the project root from a subfolder, and a second run installs nothing", async () => {
  const first = ok(await sh("npx", ["daskflow", "setup"], join(project, "src", "deep")), "setup");
  const venv = join(project, ".daskflow", "venv");
  assert.match(first.stdout, new RegExp(`environment: ${venv}`), "says where");
  assert.match(first.stdout, /installing distributed, dask, bokeh, msgpack and \d+ more packages, pinned in requirements\.lock/, "says what");
  assert.match(first.stdout, new RegExp(`ready: .*distributed 2026\\.8\\.0, dask 2026\\.8\\.0, bokeh [\\d.]+, msgpack [\\d.]+, daskflow-bridge ${pkg.version}`));
  // The bridge is an installed package of that environment, not the npm package's folder.
  const where = execFileSync(join(venv, "bin", "python"), ["-c", "import daskflow_bridge; print(daskflow_bridge.__file__)"], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH } }).trim();
  assert.match(where, /site-packages[/\\]daskflow_bridge[/\\]__init__\.py$/);
  const second = ok(await sh("npx", ["daskflow", "setup"], project), "second setup");
  assert.match(second.stdout, /is up to date .*nothing to install/);
  assert.doesNotMatch(second.stdout, /installing/);
});

test("the README's flow runs on a LocalCluster from the project root, a subfolder, and outside the project", async () => {
  const root = ok(await sh("npx", ["tsx", "flow.ts"], project), "flow at the root");
  assert.match(root.stdout, new RegExp(RESULT));
  // daskflow's own flow-side compiler (esbuild, 22 MiB) is not shipped: the code stays under the 10 MiB warning.
  assert.doesNotMatch(root.stderr, /The code shipped to the Dask workers is/);
  assert.match(ok(await sh("npx", ["tsx", "../../flow.ts"], join(project, "src", "deep")), "flow from a subfolder").stdout, new RegExp(RESULT));
  // Working directory outside the project: the environment is found from the flow's entry module.
  const elsewhere = join(dir, "elsewhere");
  mkdirSync(elsewhere);
  assert.match(ok(await sh(join(project, "node_modules", ".bin", "tsx"), [join(project, "flow.ts")], elsewhere), "flow from outside").stdout, new RegExp(RESULT));
});

test("npx daskflow doctor prints Node, the environment and the versions; with --address the cluster's too", async () => {
  const doctor = ok(await sh("npx", ["daskflow", "doctor"], join(project, "src")), "doctor");
  assert.match(doctor.stdout, new RegExp(`Node +${process.version.replace(/\./g, "\\.")}`));
  assert.match(doctor.stdout, new RegExp(`environment +${join(project, ".daskflow", "venv", "bin", "python")}`));
  assert.match(doctor.stdout, /Python +3\.\d+\.\d+/);
  assert.match(doctor.stdout, /distributed +2026\.8\.0\ndask +2026\.8\.0/);
  assert.match(doctor.stdout, new RegExp(`daskflow-bridge +${pkg.version}`));
  assert.match(doctor.stdout, /no problems found/);
  const unreachable = await sh("npx", ["daskflow", "doctor", "--address", "tcp://127.0.0.1:9"], project);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stdout, /cannot read versions from tcp:\/\/127\.0\.0\.1:9/);
});

test("a bridge of another version: the flow says so and names setup, doctor flags it here and against the cluster, setup replaces it", async () => {
  const cluster: TestCluster = await startCluster([{}]); // the repo's .venv: python3 and the same lock file
  try {
    const doctorAt = () => sh("npx", ["daskflow", "doctor", "--address", cluster.address], project);
    const matching = await doctorAt();
    assert.match(matching.stdout, /scheduler +python \S+, distributed 2026\.8\.0, dask 2026\.8\.0/);
    assert.match(matching.stdout, new RegExp(`worker tcp://127\\.0\\.0\\.1:\\d+ +python \\S+, distributed 2026\\.8\\.0.*daskflow-bridge ${pkg.version}`));
    assert.equal(matching.code, 0, matching.stdout);

    const venvPython = join(project, ".daskflow", "venv", "bin", "python");
    const other = join(dir, "other-bridge");
    cpSync(join(project, "node_modules", "daskflow", "python"), other, { recursive: true });
    const init = join(other, "daskflow_bridge", "__init__.py");
    writeFileSync(init, readFileSync(init, "utf8").replace(/__version__ = ".*"/, '__version__ = "0.0.1"'));
    ok(await sh(venvPython, ["-m", "pip", "install", "-q", "--no-deps", other], dir), "pip install of another bridge");
    const flowRun = await sh("npx", ["tsx", "flow.ts"], project);
    assert.notEqual(flowRun.code, 0);
    assert.match(flowRun.stderr, /has daskflow-bridge 0\.0\.1 .*but this daskflow is [\d.]+: run `npx daskflow setup`/);
    const doctor = await doctorAt();
    assert.equal(doctor.code, 1);
    assert.match(doctor.stdout, /daskflow-bridge 0\.0\.1 differs from daskflow .*\n +fix: npx daskflow setup/);
    assert.match(doctor.stdout, new RegExp(`worker tcp://[\\d.:]+ differs from this environment: daskflow-bridge ${pkg.version} \\(here 0\\.0\\.1\\)\n +fix: `));

    const again = ok(await sh("npx", ["daskflow", "setup"], project), "setup after the change");
    assert.match(again.stdout, new RegExp(`installing the bridge daskflow-bridge ${pkg.version}`));
    const fixed = await doctorAt();
    assert.equal(fixed.code, 0, fixed.stdout);
    assert.match(fixed.stdout, new RegExp(`daskflow-bridge +${pkg.version}\n[\\s\\S]*no problems found`));
  } finally {
    await cluster.stop();
  }
});

test("no Python, or one without distributed: setup and the flow say what is missing and name `npx daskflow setup`", async () => {
  const setup = await sh("npx", ["daskflow", "setup", "--python", "/nonexistent/python3"], project);
  assert.equal(setup.code, 1);
  assert.match(setup.stderr, /Python '\/nonexistent\/python3' \(from --python\) was not found\. .*`npx daskflow setup --python \/path\/to\/python3`/);

  const missing = await sh("npx", ["tsx", "flow.ts"], project, { DASKFLOW_PYTHON: "/nonexistent/python3" });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Python interpreter '\/nonexistent\/python3' \(from DASKFLOW_PYTHON\) was not found\. Run `npx daskflow setup`/);
  assert.doesNotMatch(missing.stderr, /setup-python\.sh|npm test/, "no advice that only exists in daskflow's repository");

  const bare = join(dir, "bare");
  execFileSync("python3", ["-m", "venv", "--without-pip", bare]);
  const noDask = await sh("npx", ["tsx", "flow.ts"], project, { DASKFLOW_PYTHON: join(bare, "bin", "python") });
  assert.notEqual(noDask.code, 0);
  assert.match(noDask.stderr, /cannot import 'distributed', 'dask', 'msgpack', 'daskflow_bridge'\. Run `npx daskflow setup`/);

  // No environment anywhere up from the working directory or the flow: python3 on PATH (here the bare one) is tried,
  // and the message lists where it looked.
  const outside = join(dir, "no-env");
  mkdirSync(outside);
  symlinkSync(join(project, "node_modules"), join(outside, "node_modules"));
  cpSync(join(project, "flow.ts"), join(outside, "flow.mts")); // no package.json with "type": "module" here
  const none = await sh(join(project, "node_modules", ".bin", "tsx"), ["flow.mts"], outside, { PATH: `${join(bare, "bin")}:${process.env.PATH}` });
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, new RegExp(`\\(from python3 on PATH\\) cannot import 'distributed'.*no \\.daskflow/venv was found in '${outside}' or their parents`));
});

test("on the lowest supported Node 22: npm install (engines enforced), npx daskflow setup, the flow and doctor", async (t) => {
  const bin = pinnedNodeBin("lowest");
  if (!bin) return t.skip(`no Node 22 pinned for ${process.platform}-${process.arch} in scripts/node.sh`);
  const node22 = { PATH: `${bin}:${process.env.PATH}` }; // npm and npx run on it too (#!/usr/bin/env node)
  const version = ok(await sh("node", ["--version"], dir, node22), "node --version").stdout.trim();
  assert.match(version, /^v22\./);
  const project22 = join(dir, "node22-project");
  mkdirSync(project22);
  ok(await sh("npm", ["init", "-y"], project22, node22), "npm init");
  ok(await sh("npm", ["pkg", "set", "type=module"], project22, node22), "npm pkg set");
  ok(await sh("npm", ["install", "--engine-strict", "--no-audit", "--no-fund", "--prefer-offline", tarball, `tsx@${pkg.devDependencies.tsx}`], project22, node22), "npm install --engine-strict");
  cpSync(join(REPO, "test", "package", "project", "flow.ts"), join(project22, "flow.ts"));

  const setup = ok(await sh("npx", ["daskflow", "setup"], project22, node22), "setup");
  assert.match(setup.stdout, new RegExp(`ready: .*daskflow-bridge ${pkg.version}`));
  const flowRun = ok(await sh("npx", ["tsx", "flow.ts"], project22, node22), "the flow");
  assert.match(flowRun.stdout, new RegExp(RESULT));
  // The sidecars ran on the flow's own Node 22 (another major would be a warning), and no Node warning reached the user.
  assert.doesNotMatch(flowRun.stderr, /another major version|\(node:\d+\) \w*Warning:/);
  const doctor = ok(await sh("npx", ["daskflow", "doctor"], project22, node22), "doctor");
  assert.ok(doctor.stdout.startsWith(`${"Node".padEnd(17)} ${version} (${join(bin, "node")})\n`), doctor.stdout);
  assert.match(doctor.stdout, /no problems found/);
});
