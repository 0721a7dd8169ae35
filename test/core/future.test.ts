import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, task, wait, asCompleted, StateType, WaitTimeoutError } from "../../src/index.ts";
import { TaskFuture, setFutureState } from "../../src/core/future.ts";
import { Completed } from "../../src/core/state.ts";
import { sleep, captureStderr } from "../helpers.ts";

const nap = task(async (ms: number) => {
  await sleep(ms);
  return ms;
});

test("result({ timeoutSeconds }) throws WaitTimeoutError when the task is not done in time", async () => {
  const f = flow(async () => {
    const fut = nap.submit(300);
    await assert.rejects(fut.result({ timeoutSeconds: 0.02 }), (e: Error) => e instanceof WaitTimeoutError && /did not finish within 0.02s/.test(e.message));
    return fut.result();
  });
  assert.equal(await f(), 300);
});

test("future.wait(timeout) returns the current state when time runs out, the final one otherwise", async () => {
  const f = flow(async () => {
    const fut = nap.submit(200);
    const early = await fut.wait(0.01);
    const final = await fut.wait();
    return [early.type, final.type];
  });
  assert.deepEqual(await f(), [StateType.RUNNING, StateType.COMPLETED]);
});

test("wait(futures) splits done from not done at the timeout", async () => {
  const f = flow(async () => {
    const quick = nap.submit(5);
    const slow = nap.submit(400);
    const { done, notDone } = await wait([quick, slow], { timeoutSeconds: 0.15 });
    assert.ok(done.has(quick) && notDone.has(slow));
    const all = await wait([quick, slow]);
    assert.equal(all.done.size, 2);
    assert.equal(all.notDone.size, 0);
  });
  await f();
});

test("asCompleted yields futures in completion order", async () => {
  const f = flow(async () => {
    const futures = [nap.submit(150), nap.submit(10), nap.submit(80)];
    const order: number[] = [];
    for await (const fut of asCompleted(futures)) order.push(await fut.result());
    return order;
  });
  assert.deepEqual(await f(), [10, 80, 150]);
});

test("cancel() ends a pending or running task CANCELLED and its downstream NotReady", async () => {
  const f = flow(async () => {
    const fut = nap.submit(500);
    await sleep(10);
    assert.equal(fut.cancel(), true);
    const downstream = nap.submit(fut);
    const state = await fut.wait();
    assert.equal(fut.cancel(), false, "a final future cannot be cancelled again");
    await assert.rejects(fut.result(), /was cancelled/);
    return [state.type, (await downstream.wait()).name];
  });
  assert.deepEqual(await f(), [StateType.CANCELLED, "NotReady"]);
});

test("futures never waited for are awaited before the flow ends, and named in a warning", async () => {
  let finished = false;
  const late = task(async () => {
    await sleep(100);
    finished = true;
  });
  const f = flow(async () => {
    late.submit();
  });
  const { output } = await captureStderr(() => f());
  assert.equal(finished, true);
  assert.match(output, /WARNING .*1 submitted task run\(s\) were still running and never waited for: 'late-[0-9a-f]{3}'/);
});

test("a future passed to another task counts as used: no warning", async () => {
  const f = flow(async () => {
    const a = nap.submit(20);
    return nap.submit(a).result();
  });
  const { output } = await captureStderr(() => f());
  assert.doesNotMatch(output, /never waited for/);
});

test("result({ timeoutSeconds }) also bounds a finished run's result that is slow to arrive", async () => {
  const future = new TaskFuture<number>("id", "held-elsewhere");
  // A completed state whose value lives elsewhere and never arrives (a class module that never loads, a lost link).
  future[setFutureState](Completed<number>(undefined as never, { load: () => new Promise<number>(() => {}) }));
  const started = Date.now();
  await assert.rejects(future.result({ timeoutSeconds: 0.2 }), (e: Error) => e instanceof WaitTimeoutError && /finished \(Completed\(\)\), but its result did not arrive within 0.2s/.test(e.message));
  assert.ok(Date.now() - started < 2000);
});
