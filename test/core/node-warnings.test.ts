/**
 * daskflow loads node:sqlite without Node's ExperimentalWarning about it reaching the user, and hides nothing else:
 * real child processes on the lowest supported Node 22 (which prints that warning) and on the Node running the
 * suite (Node 24: no such warning since 24.x, the same outcome).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { isSqliteExperimentalWarning } from "../../src/core/node-warnings.ts";
import { REPO } from "../dask/fixtures.ts";
import { pinnedNodeBin } from "../helpers.ts";

const SCRIPT = join("test", "core", "scripts", "sqlite-warnings.ts");
const SQLITE_WARNING = /ExperimentalWarning: SQLite is an experimental feature/;

function run(node: string, load: "daskflow" | "plain") {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS|NODE_TEST_CONTEXT|NODE_NO_WARNINGS)$/.test(k)));
  const ran = spawnSync(node, ["--import", "tsx", SCRIPT], { cwd: REPO, env: { ...env, WARNINGS_LOAD: load }, encoding: "utf8", timeout: 60_000 });
  assert.equal(ran.status, 0, ran.stderr);
  assert.match(ran.stdout, /sqlite ok 42 /);
  return ran;
}

test("only Node's ExperimentalWarning about SQLite matches the filter", () => {
  const message = "SQLite is an experimental feature and might change at any time";
  assert.ok(isSqliteExperimentalWarning(message, "ExperimentalWarning"));
  assert.ok(isSqliteExperimentalWarning(message, { type: "ExperimentalWarning" }));
  assert.ok(isSqliteExperimentalWarning(Object.assign(new Error(message), { name: "ExperimentalWarning" })));
  assert.ok(!isSqliteExperimentalWarning(message), "a plain Warning");
  assert.ok(!isSqliteExperimentalWarning(message, "DeprecationWarning"));
  assert.ok(!isSqliteExperimentalWarning("WASI is an experimental feature and might change at any time", "ExperimentalWarning"));
  assert.ok(!isSqliteExperimentalWarning(`the user: ${message}`, "ExperimentalWarning"));
});

test("on the lowest supported Node 22, loadSqlite() keeps Node's SQLite warning from the user and nothing else", (t) => {
  const bin = pinnedNodeBin("lowest");
  if (!bin) return t.skip(`no Node 22 pinned for ${process.platform}-${process.arch} in scripts/node.sh`);
  const node = join(bin, "node");
  // The control: loaded plainly, this Node prints the warning (so the test below could see it).
  const plain = run(node, "plain");
  assert.match(plain.stdout, /v22\.\d+\.\d+/);
  assert.match(plain.stderr, SQLITE_WARNING);

  const ours = run(node, "daskflow");
  assert.doesNotMatch(ours.stderr, SQLITE_WARNING);
  assert.match(ours.stderr, /ExperimentalWarning: Frobnication is an experimental feature/, "another ExperimentalWarning, while loading");
  assert.match(ours.stderr, /Warning: SQLite is an experimental feature, says a plain Warning/, "a warning of another type");
  assert.match(ours.stderr, /ExperimentalWarning: the user's own experimental thing/, "the user's own, after");
});

test("on the suite's Node the same script loads SQLite and prints every other warning", () => {
  const ours = run(process.execPath, "daskflow");
  assert.doesNotMatch(ours.stderr, SQLITE_WARNING);
  assert.match(ours.stderr, /ExperimentalWarning: Frobnication/);
  assert.match(ours.stderr, /ExperimentalWarning: the user's own experimental thing/);
});
