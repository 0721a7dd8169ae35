/**
 * Progress and the interrupt line on a temporary LocalCluster through DaskTaskRunner, the flow run as a user runs
 * it (a child process; stderr a pipe). No process may be left after either.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { counts, progressLines, runScript } from "../core/progress-run.ts";
import { markProcesses, waitForNoMarked } from "./fixtures.ts";

const mark = markProcesses();
const SCRIPT = "test/core/scripts/progress-flow.ts";

test("a map on a LocalCluster shows progress while it runs and ends with every item counted", async () => {
  const { output, code } = await runScript(SCRIPT, { PROGRESS_RUNNER: "dask", PROGRESS_ITEMS: "24", PROGRESS_SLEEP_MS: "500", PROGRESS_FAIL: "1" });
  assert.equal(code, 0, output);
  assert.match(output, /RESULT 246/);
  const { live, final } = progressLines(output);
  assert.ok(live.length >= 1, output);
  for (const line of live) assert.equal(counts(line)[1], 24);
  assert.equal(final.length, 1, output);
  assert.deepEqual(counts(final[0]!), [21, 24, 3]);
  assert.deepEqual(await waitForNoMarked(mark), []);
});

test("SIGINT while a flow runs on a LocalCluster: one line naming the cluster and the unfinished runs; the process ends and leaves nothing", async () => {
  let sent = false;
  const { output, signal } = await runScript(
    SCRIPT,
    { PROGRESS_RUNNER: "dask", PROGRESS_ITEMS: "40", PROGRESS_SLEEP_MS: "30000" },
    {
      onOutput: (text, pid) => {
        // Once the cluster is up and the display shows, so the line can name the scheduler.
        if (sent || !/dashboard is available[\s\S]*Progress: /.test(text)) return;
        sent = true;
        process.kill(pid, "SIGINT");
      },
    },
  );
  assert.ok(sent, output);
  const lines = output.split("\n").filter((l) => /Interrupted/.test(l));
  assert.equal(lines.length, 1, output);
  assert.match(
    lines[0]!,
    /\| WARNING \| Flow run '[a-z]+-[a-z]+' - Interrupted by SIGINT: tearing down the temporary Dask cluster \(distributed\.LocalCluster at tcp:\/\/127\.0\.0\.1:\d+\) and 40 unfinished task runs\.$/,
  );
  assert.equal(signal, "SIGINT");
  assert.deepEqual(await waitForNoMarked(mark, 60_000), []);
});
