/**
 * Every example runs as a user runs it (`npx tsx examples/<name>.ts`, from the repository root) and prints what it
 * promises. Each is a child process with a time limit, so a hang fails the test instead of stalling the suite.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./dask/fixtures.ts";

/** What each example prints when it works (a module that only lends functions to another example is not run). */
const EXPECTED: Record<string, RegExp | null> = {
  "adaptive.ts": /distinct workers: [2-4]/,
  "bag-words.ts": null,
  "bag.ts": /top words: cat=873, red=437, on=436/,
  "client.ts": /outside a run: sum of \[1, 2, 3, 4\] = 10/,
  "cluster-class.ts": /3\. by TS class .* 4 tasks ran on 2 worker process\(es\)/,
  "dataframe.ts": /Prefect's dataframe flow: \{"x":3,"y":6\}/,
  "history.ts": /task runs by state: \{"FAILED":1,"COMPLETED":5\}\nfailed task run: parse-\w+ \(RangeError: record 4 is malformed\)\n.*warning: 1 record\(s\) skipped/,
  "hooks-and-limits.ts": /at most [12] 'db' queries ran at once \(limit 2\): true\nthe untagged report ran before the queries were done: true.*\nthe flow's onCompletion hook ran 1 time\(s\)/,
  "durable.ts": /first run: Failed.*\nresumed run: total 21, links run again: 3 of 6, reused: 3\nsquares: 4 Completed, 9 Completed, 16 Completed \| next run: 4 Cached, 9 Cached, 16 Cached/,
  "existing-scheduler.ts": /still running after both runs \(the runner never shut them down\): true/,
  "invoices.ts": /invoice total: 144\.95 EUR \(a Money: true\)/,
  "main.ts": /sum of squares 1\.\.10 = 385/,
  "resources.ts": /the three 'process: 1' tasks ran one at a time: true/,
  "workers-and-threads.ts": /none ran in the flow process \(pid \d+\): true/,
};

const examples = readdirSync(join(REPO, "examples")).filter((f) => f.endsWith(".ts"));

test("every example is listed here with what it prints", () => {
  assert.deepEqual(examples.sort(), Object.keys(EXPECTED).sort());
});

for (const name of examples) {
  const expected = EXPECTED[name];
  if (!expected) continue;
  test(`examples/${name} runs to its end and prints what it shows`, { timeout: 200_000 }, async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ["--import", "tsx", join("examples", name)], { cwd: REPO, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, out, err) => {
        if (error) reject(new Error(`${name}: ${error.killed ? "still running after 180 s (a hang)" : error.message}\n${out}\n${err.split("\n").slice(-20).join("\n")}`));
        else resolve(out);
      });
    });
    assert.match(stdout, expected);
  });
}
