/**
 * The progress display, seen as a user sees it: a flow script run as a child process, its stderr a pipe or a
 * pseudo-terminal. The flow maps a task that sleeps (40 items, four at a time, about 4 s in all) on the in-process
 * runner; test/dask/progress.test.ts does the same on a LocalCluster.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, InvalidOptionError } from "../../src/index.ts";
import { counts, hasScript, progressLines, runScript } from "./progress-run.ts";

const SCRIPT = "test/core/scripts/progress-flow.ts";
const LONG = { PROGRESS_ITEMS: "40", PROGRESS_SLEEP_MS: "400" };

test("on a pipe: progress lines as log records while the map runs, then a final count of every item", async () => {
  const { output, code } = await runScript(SCRIPT, { ...LONG, PROGRESS_FAIL: "1" });
  assert.equal(code, 0, output);
  assert.match(output, /RESULT 720/);
  const { live, final } = progressLines(output);
  assert.ok(live.length >= 1, `a progress line while it ran:\n${output}`);
  assert.equal(final.length, 1, output);
  assert.deepEqual(counts(final[0]!), [36, 40, 4], "every item counted: 36 done, 4 failed, of 40");
  for (const line of live) assert.equal(counts(line)[1], 40, "out of the map's 40 items");
  // Not a terminal: whole lines with the log format, nothing redrawn in place.
  assert.doesNotMatch(output, /\r|\x1b\[K/);
  assert.match(output, /^\d\d:\d\d:\d\d\.\d{3} \| INFO {4}\| Flow run '[a-z]+-[a-z]+' - Progress: \d+\/40 done/m);
  assert.match(output, /^\d\d:\d\d:\d\d\.\d{3} \| INFO {4}\| Flow run '[a-z]+-[a-z]+' - Progress: 36\/40 done, 4 failed in \d+s/m);
  const finalAt = output.indexOf(final[0]!);
  assert.ok(output.indexOf("Finished in state Completed()") > finalAt, "the summary comes before the flow's last line");
});

test("on a terminal: one line redrawn in place, erased around log lines, and replaced by the summary at the end", { skip: !hasScript && "util-linux `script` is not installed" }, async () => {
  const { output, code } = await runScript(SCRIPT, { ...LONG, PROGRESS_LOG: "1" }, { tty: true });
  assert.equal(code, 0, output);
  const { live, final } = progressLines(output);
  assert.ok(live.length >= 2, `the line was redrawn:\n${JSON.stringify(output)}`);
  assert.equal(final.length, 1);
  assert.deepEqual(counts(final[0]!), [40, 40, 0]);
  // Each drawing starts at the line's beginning and clears what a longer earlier one left.
  const draws = [...output.matchAll(/\r(Progress: [^\r\n]*?)\x1b\[K/g)].map((m) => m[1]);
  assert.deepEqual(draws, live, "every live line is drawn in place");
  // A log line of a task never shares a terminal line with the progress line: it is erased first.
  const logs = [...output.matchAll(/([^\n]*)\d\d:\d\d:\d\d\.\d{3} \| INFO {4}\| Task run 'nap-[0-9a-f]{3}' - napped \d+/g)];
  assert.equal(logs.length, 4);
  for (const [, before] of logs) assert.ok(before === "" || before!.endsWith("\r\x1b[K"), `erased before a log line: ${JSON.stringify(before)}`);
  // The summary is a permanent line, and nothing is drawn after it.
  assert.match(output, /\r\x1b\[K\d\d:\d\d:\d\d\.\d{3} \| INFO {4}\| Flow run '[a-z]+-[a-z]+' - Progress: 40\/40 done, 0 failed in \d+s/);
  assert.doesNotMatch(output.slice(output.indexOf(final[0]!)), /\rProgress:/);
});

test("progress: false and DASKFLOW_PROGRESS=0 turn it off, on a pipe and on a terminal", async () => {
  const option = await runScript(SCRIPT, { ...LONG, PROGRESS_OPTION: "off" });
  assert.equal(option.code, 0, option.output);
  assert.match(option.output, /RESULT 780/);
  assert.doesNotMatch(option.output, /Progress:/);
  for (const value of ["0", "off"]) {
    const env = await runScript(SCRIPT, { ...LONG, DASKFLOW_PROGRESS: value }, { tty: hasScript });
    assert.equal(env.code, 0, env.output);
    assert.match(env.output, /RESULT 780/);
    assert.doesNotMatch(env.output, /Progress:/);
  }
});

test("a run shorter than about 2 s shows no progress", async () => {
  const { output, code } = await runScript(SCRIPT, { PROGRESS_ITEMS: "8", PROGRESS_SLEEP_MS: "50" }, { tty: hasScript });
  assert.equal(code, 0, output);
  assert.match(output, /RESULT 28/);
  assert.doesNotMatch(output, /Progress:/);
});

test("an unknown DASKFLOW_PROGRESS value is named in a warning, and progress stays on", async () => {
  const { output } = await runScript(SCRIPT, { ...LONG, DASKFLOW_PROGRESS: "maybe" });
  assert.match(output, /WARNING \| Flow run '[a-z]+-[a-z]+' - DASKFLOW_PROGRESS="maybe" is not one of 0, off, false, no, 1, on, true, yes; progress stays on/);
  assert.equal(progressLines(output).final.length, 1);
});

test("the progress option is validated like every flow option", () => {
  assert.throws(() => flow({ progress: "no" as unknown as boolean }, () => 1), (error: Error) => {
    assert.ok(error instanceof InvalidOptionError);
    assert.equal(error.message, `flow(): option 'progress' must be true or false, got "no".`);
    return true;
  });
  assert.throws(() => flow({ progres: false } as never, () => 1), /unknown option 'progres'. Did you mean 'progress'\?/);
});

/** Runs the long map and sends `signal` once the progress display shows. */
function interrupted(signal: NodeJS.Signals, env: Record<string, string> = {}) {
  let sent = false;
  return runScript(SCRIPT, { ...LONG, PROGRESS_SLEEP_MS: "2000", ...env }, {
    onOutput: (output, pid) => {
      if (sent || !/Progress: /.test(output)) return;
      sent = true;
      process.kill(pid, signal);
    },
  });
}

test("SIGTERM while a flow runs: one line saying so and what ends with it, then the process ends by the signal", async () => {
  const { output, signal, code } = await interrupted("SIGTERM");
  const lines = output.split("\n").filter((l) => /Interrupted/.test(l));
  assert.equal(lines.length, 1, output);
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} \| WARNING \| Flow run '[a-z]+-[a-z]+' - Interrupted by SIGTERM: ending \d+ unfinished task runs\.$/);
  assert.equal(signal, "SIGTERM", `ended by the signal as without daskflow (code ${code})`);
  assert.doesNotMatch(output, /RESULT/);
});

test("a program with its own SIGINT handler: the line says so, and that handler decides", async () => {
  const { output, code } = await interrupted("SIGINT", { PROGRESS_OWN_HANDLER: "1" });
  assert.match(output, /WARNING \| Flow run '[a-z]+-[a-z]+' - Interrupted by SIGINT; the program's own SIGINT handler decides what follows \(still up: \d+ unfinished task runs\)\./);
  assert.match(output, /OWN HANDLER/);
  assert.equal(code, 3);
});
