/** `npx daskflow runs` and `npx daskflow history prune`, run as the user runs them, on a seeded store. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { openHistory } from "../../src/history/index.ts";
import { flowRun, taskRun } from "./store-cases.ts";

const dir = mkdtempSync(join(tmpdir(), "daskflow-cli-"));
const url = join(dir, "history.db");
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = join(import.meta.dirname, "..", "..", "src", "cli", "index.ts");
const DAY = 86_400_000;

before(async () => {
  const store = await openHistory({ url });
  const now = Date.now();
  await store.write({
    flowRuns: [
      flowRun(1, { flowName: "etl", name: "calm-otter", startTime: now - 5000, endTime: now - 2500, taskCounts: { COMPLETED: 98, FAILED: 2 }, state: "FAILED", stateName: "Failed" }),
      flowRun(2, { flowName: "train\u001b[31m", name: "eager-yak", startTime: now - 1000, endTime: undefined, state: "RUNNING", stateName: "Running", taskCounts: { RUNNING: 3 } }),
      flowRun(3, { flowName: "etl", name: "old-newt", startTime: now - 40 * DAY, endTime: now - 40 * DAY + 90_000 }),
    ],
    taskRuns: [taskRun("fr-00003", 0), taskRun("fr-00003", 1)],
    logs: [{ flowRunId: "fr-00003", level: "info", timestamp: 1, message: "old" }],
  });
  await store.close();
});

function daskflow(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8", env: { ...process.env, DASKFLOW_HISTORY_URL: url } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("runs: a table of recent runs, newest first, with filters", () => {
  const all = daskflow("runs");
  assert.equal(all.status, 0, all.stderr);
  const lines = all.stdout.trim().split("\n");
  assert.match(lines[0]!, /^STARTED\s+FLOW\s+RUN\s+STATE\s+DURATION\s+TASK RUNS\s+ID$/);
  assert.equal(lines.length, 4);
  assert.match(lines[1]!, /train\\x1b\[31m\s+eager-yak\s+Running\s+running\s+3 running/, "control characters are shown escaped");
  assert.match(lines[2]!, /etl\s+calm-otter\s+Failed\s+2\.5s\s+98 completed, 2 failed\s+fr-00001$/);
  assert.match(lines[3]!, /old-newt\s+Completed\s+1m30s/);
  const failed = daskflow("runs", "--state", "failed", "--flow", "etl", "--limit", "5");
  assert.deepEqual(failed.stdout.trim().split("\n").slice(1).map((l) => l.split(/\s{2,}/)[2]), ["calm-otter"]);
  assert.match(daskflow("runs", "--flow", "nope").stdout, /No flow runs match/);
});

test("runs and prune: bad input gets a clear error and exit code 1", () => {
  const badState = daskflow("runs", "--state", "done");
  assert.equal(badState.status, 1);
  assert.match(badState.stderr, /--state 'done' is not a state. Use one of PENDING, SCHEDULED, RUNNING, COMPLETED/);
  assert.match(daskflow("runs", "--limit", "0").stderr, /--limit must be a positive whole number/);
  const badDuration = daskflow("history", "prune", "--older-than", "30days");
  assert.equal(badDuration.status, 1);
  assert.match(badDuration.stderr, /'30days' is not a duration. Give a number and a unit: ms, s, m, h, d or w/);
  assert.doesNotMatch(badDuration.stderr, /\n\s+at /, "no stack trace");
  assert.match(daskflow("history", "prune").stderr, /give --older-than/);
  assert.match(daskflow("history", "purge").stderr, /unknown subcommand 'purge'/);
});

test("history prune --older-than 30d deletes old runs with their task runs and logs, and says how many", async () => {
  const pruned = daskflow("history", "prune", "--older-than", "30d");
  assert.equal(pruned.status, 0, pruned.stderr);
  assert.match(pruned.stdout, /^Pruned 1 flow run\(s\), 2 task run\(s\) and 1 log line\(s\) older than 30d from .*history\.db\.$/m);
  const store = await openHistory({ url });
  try {
    assert.deepEqual((await store.flowRuns()).items.map((r) => r.name), ["eager-yak", "calm-otter"]);
  } finally {
    await store.close();
  }
});
