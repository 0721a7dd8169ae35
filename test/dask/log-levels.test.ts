/**
 * Batched and unbatched items log alike: the same map on a real cluster, with batchSize 1 and batchSize 4, prints
 * the same lines per item at INFO and at DEBUG (a completed item's final state only at DEBUG; failures and retries
 * at every level).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { flow } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { captureStderr, withLoggingLevel } from "../helpers.ts";
import { fileCluster } from "./fixtures.ts";
import { logged } from "./progress-tasks.ts";

const cluster = fileCluster([{ nthreads: 2 }]);

const ITEMS = [1, 2, 3, 4, 5, 6, 7, 8];
const RECORD = /^\d\d:\d\d:\d\d\.\d{3} \| (\w+) *\| Task run '([^']+)'(?: \[[^\]]+\])? - (.*)$/;

/** Per item: the sorted "LEVEL message" lines its task run printed. */
async function linesPerItem(level: string, batchSize: number): Promise<string[][]> {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const futures = logged.with({ batchSize }).map(ITEMS);
    await Promise.all(futures.map((x) => x.wait()));
    return futures.map((x) => x.taskRunName);
  });
  const { value: names, output } = await withLoggingLevel(level, () => captureStderr(() => f()));
  const perItem = names.map((): string[] => []);
  for (const line of output.split("\n")) {
    const m = RECORD.exec(line);
    if (!m) continue;
    const item = names.indexOf(m[2]!);
    assert.ok(item >= 0, `a task run line of a run this map made: ${line}`);
    perItem[item]!.push(`${m[1]} ${m[3]}`);
  }
  return perItem.map((lines) => lines.sort());
}

for (const level of ["INFO", "DEBUG"]) {
  test(`at ${level}, batched and unbatched items print the same lines`, async () => {
    const single = await linesPerItem(level, 1);
    const batched = await linesPerItem(level, 4);
    assert.deepEqual(batched, single);
    // What those lines are: a failing item shows its retry, its error and its final state; a completed one its
    // final state only at DEBUG.
    assert.deepEqual(single[3], [
      "ERROR Encountered exception during execution:",
      "INFO Finished in state Failed(\"Task run encountered an exception Error: bad item 4\")",
      "INFO item 4",
      "INFO item 4",
      "WARNING Attempt 1 failed with Error: bad item 4 - retry 1/1 follows.",
    ]);
    assert.deepEqual(single[0], level === "DEBUG" ? ["DEBUG Finished in state Completed()", "INFO item 1"] : ["INFO item 1"]);
  });
}
