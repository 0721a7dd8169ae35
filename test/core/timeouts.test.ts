import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, task, StateType, TaskTimeoutError } from "../../src/index.ts";

/** Blocks the event loop for `ms` (so no timer can fire), then returns. */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy: a synchronous task that ignores its deadline
  }
}

let blockedRuns = 0;
const blocking = task({ timeoutSeconds: 0.2 }, (ms: number) => {
  blockedRuns++;
  block(ms);
  return "late value";
});
const inc = task((x: string) => `${x}!`);

test("a synchronous task that blocks past its timeout and then returns ends FAILED 'TimedOut'; its value is dropped and its downstream is NotReady", async () => {
  const f = flow(async () => {
    const late = blocking.submit(600);
    const after = inc.submit(late);
    const states = { late: await late.wait(), after: await after.wait() };
    return () => states;
  });
  const { late, after } = (await f())();
  assert.equal(late.type, StateType.FAILED);
  assert.equal(late.name, "TimedOut");
  assert.ok(late.error instanceof TaskTimeoutError);
  assert.equal(late.data, undefined, "the late value is discarded");
  assert.equal(after.name, "NotReady");
});

test("a blocking task called directly throws TaskTimeoutError, and a retry after a timeout runs again", async () => {
  blockedRuns = 0;
  const f = flow(async () => blocking(600));
  await assert.rejects(f(), (e: Error) => e.cause instanceof TaskTimeoutError || /exceeded its timeout of 0.2s/.test(e.message));
  assert.equal(blockedRuns, 1);
  const retried = blocking.withOptions({ retries: 1 });
  const g = flow(async () => (await retried.submit(600).wait()).name);
  assert.equal(await g(), "TimedOut");
  assert.equal(blockedRuns, 3, "the timed-out attempt was retried once");
});

test("a task that returns within its timeout keeps its value", async () => {
  const f = flow(async () => blocking.submit(10).result());
  assert.equal(await f(), "late value");
});
