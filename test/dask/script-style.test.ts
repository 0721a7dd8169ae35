/**
 * Flows run the way users write them (issue #21): tasks, an exported class and a top-level `await myFlow()` in
 * one module, run as a script. Each run is a child process with a time limit, so a hang fails the test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { REPO, fileCluster } from "./fixtures.ts";

/** Workers give up on a module that never binds a class after 10 s (default 60). */
const cluster = fileCluster([{ nthreads: 1, env: { DASKFLOW_IMPORT_TIMEOUT_SECONDS: "10" } }]);

function runScript(script: string, env: Record<string, string>, limitMs = 90_000): Promise<{ stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", join(REPO, "test/dask/scripts", script)], { cwd: REPO, env: { ...process.env, ...env }, timeout: limitMs, killSignal: "SIGTERM" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${script} ${error.killed ? `was still running after ${limitMs / 1000}s (a hang)` : `failed: ${error.message}`}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr, ms: Date.now() - started });
    });
  });
}

const expected = { plain: { c: 1 }, made: "Money 1234 EUR", fromFlow: "Money 10 USD", chained: "Money 2468 EUR" };

for (const [mode, what] of [
  ["ship", "a temporary LocalCluster of two workers, code shipped"],
  ["no-ship", "a temporary LocalCluster of two workers, files imported in place"],
  ["local", "the in-process runner"],
] as const) {
  test(`a script-style module with an exported class finishes, and Money crosses as an instance (${what})`, async () => {
    const { stdout } = await runScript("money-script.ts", { MONEY_RUNNER: mode });
    const line = /RESULT (.*)/.exec(stdout)?.[1];
    assert.ok(line, `no result line in:\n${stdout}`);
    assert.deepEqual(JSON.parse(line), expected);
  });
}

test("a class whose module never finishes loading on the worker fails its task within the bound, naming the class and what to do", async () => {
  const { stdout, ms } = await runScript("lost-class.ts", { DASK_ADDRESS: cluster.address }, 60_000);
  const line = /ERROR (.*)/.exec(stdout)?.[1];
  assert.ok(line, `no error line in:\n${stdout}`);
  assert.match(line, /class Lost of file:\/\/.*lost-class\.ts could not be found in the Node sidecar \(pid \d+\) of a Dask worker within 10s/);
  assert.match(line, /define the class in a module that defines a task/);
  assert.ok(ms < 30_000, `took ${ms} ms`);
});

test("a task defined below a top-level flow call fails within seconds on Dask, saying why, not at the import bound", async () => {
  const { stdout } = await runScript("task-below-flow.ts", { DASK_ADDRESS: cluster.address }, 60_000);
  assert.match(stdout, /FIRST 2/);
  const [, ms, message] = /ERROR after (\d+) ms: (.*)/.exec(stdout) ?? [];
  assert.ok(message, `no error line in:\n${stdout}`);
  assert.match(message, /Task 'late' is never defined on a Dask worker: .*task-below-flow\.ts calls flow 'first' at its top level, a worker importing the module stops at that call .* Define tasks above the module's flow calls\./);
  assert.ok(Number(ms) < 9_000, `took ${ms} ms (the import bound is 10 s)`);
});
