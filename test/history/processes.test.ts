/**
 * The recorder across real flow processes: four writing to one SQLite file at once, history off, and a store that
 * cannot be written (one warning; the runs complete).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openHistory } from "../../src/history/index.ts";

const dir = mkdtempSync(join(tmpdir(), "daskflow-writers-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const script = join(import.meta.dirname, "scripts", "writer.ts");

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function writer(env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, DASKFLOW_LOGGING_LEVEL: "INFO", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    after(() => child.exitCode === null && child.kill("SIGKILL")); // ended also when the test fails early
  });
}

test("four flow processes writing to one SQLite store at once: every run recorded, never 'database is locked'", async () => {
  const url = join(dir, "shared", "history.db");
  const exits = await Promise.all([1, 2, 3, 4].map(() => writer({ DASKFLOW_HISTORY_URL: url, FLOWS: "3", TASKS: "1000" })));
  for (const exit of exits) {
    assert.equal(exit.code, 0, exit.stderr.slice(-2000));
    assert.deepEqual(JSON.parse(exit.stdout), { completed: 3 });
    assert.doesNotMatch(exit.stderr, /locked|Run history/i);
  }
  const store = await openHistory({ url });
  try {
    const runs = (await store.flowRuns({ flowName: "writer", limit: 100 })).items;
    assert.equal(runs.length, 12);
    for (const run of runs) {
      assert.equal(run.state, "COMPLETED");
      assert.deepEqual(run.taskCounts, { COMPLETED: 1000 });
      assert.equal((await store.taskRuns({ flowRunId: run.id, state: "COMPLETED", limit: 1000 })).items.length, 1000);
      const logs = (await store.logs({ flowRunId: run.id, search: "squaring", limit: 2000 })).items;
      assert.equal(logs.length, 1000);
      assert.ok(logs.every((l) => l.taskRunId));
    }
  } finally {
    await store.close();
  }
});

test("DASKFLOW_HISTORY=off records nothing (no store is created)", async () => {
  const url = join(dir, "off", "history.db");
  const exit = await writer({ DASKFLOW_HISTORY_URL: url, DASKFLOW_HISTORY: "off", FLOWS: "1", TASKS: "10" });
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(existsSync(url), false);
});

test("a store that cannot be written: one warning, and every run completes", async () => {
  const locked = join(dir, "read-only");
  mkdirSync(locked);
  chmodSync(locked, 0o500);
  // As root a read-only folder is still writable: a path under a regular file cannot be created by anyone.
  const url = process.getuid?.() === 0 ? join(script, "history.db") : join(locked, "sub", "history.db");
  const exit = await writer({ DASKFLOW_HISTORY_URL: url, FLOWS: "3", TASKS: "20" });
  assert.equal(exit.code, 0, exit.stderr);
  assert.deepEqual(JSON.parse(exit.stdout), { completed: 3 });
  const warnings = exit.stderr.split("\n").filter((l) => l.includes("Run history"));
  assert.equal(warnings.length, 1, exit.stderr.slice(-2000));
  assert.match(warnings[0]!, /WARNING .*Run history: cannot record to .*history\.db .*Runs go on without history/);
});

test("an invalid PostgreSQL URL: one warning, the run completes", async () => {
  const exit = await writer({ DASKFLOW_HISTORY_URL: "postgres://nobody@127.0.0.1:1/none", FLOWS: "2", TASKS: "5" });
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(exit.stderr.split("\n").filter((l) => l.includes("Run history")).length, 1, exit.stderr.slice(-2000));
});

test("DASKFLOW_HISTORY_RETENTION=30d prunes older runs in the background; a bad value warns once", async () => {
  const url = join(dir, "retention", "history.db");
  const seed = await openHistory({ url });
  const old = Date.now() - 40 * 86_400_000;
  await seed.write({
    flowRuns: [{ id: "old", name: "old-run", flowName: "writer", parameters: "()", state: "COMPLETED", stateName: "Completed", startTime: old, endTime: old + 1, runner: "x", taskCounts: {}, updatedAt: old }],
    logs: [{ flowRunId: "old", level: "info", timestamp: old, message: "old line" }],
  });
  await seed.close();
  const exit = await writer({ DASKFLOW_HISTORY_URL: url, DASKFLOW_HISTORY_RETENTION: "30d", FLOWS: "1", TASKS: "5" });
  assert.equal(exit.code, 0, exit.stderr);
  const store = await openHistory({ url });
  try {
    const runs = (await store.flowRuns({ flowName: "writer" })).items;
    assert.deepEqual(runs.map((r) => r.state), ["COMPLETED"], "the old run is gone, the new one is there");
    assert.equal((await store.logs({ flowRunId: "old" })).items.length, 0);
  } finally {
    await store.close();
  }
  const bad = await writer({ DASKFLOW_HISTORY_URL: url, DASKFLOW_HISTORY_RETENTION: "30 days", FLOWS: "2", TASKS: "5" });
  assert.equal(bad.code, 0, bad.stderr);
  const warnings = bad.stderr.split("\n").filter((l) => l.includes("DASKFLOW_HISTORY_RETENTION"));
  assert.equal(warnings.length, 1, bad.stderr);
  assert.match(warnings[0]!, /'30 days' is not a duration/);
});
