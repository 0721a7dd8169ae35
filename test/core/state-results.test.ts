import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, task, FlowRunError, StateType, UpstreamTaskError, CancelledRunError } from "../../src/index.ts";

const ok = task((x: number) => x * 2);
const boom = task((message: string): number => {
  throw new RangeError(message);
});
const after = task((x: number) => x + 1);

test("every final task state has result(): a value, or its error thrown or returned with raiseOnFailure: false", async () => {
  const f = flow(async () => {
    const good = ok.submit(21);
    const bad = boom.submit("no");
    const skipped = after.submit(bad);
    const states = { good: await good.wait(), bad: await bad.wait(), skipped: await skipped.wait() };
    return () => states;
  });
  const { good, bad, skipped } = (await f())();
  assert.equal(await good.result(), 42);
  assert.equal(await good.result({ raiseOnFailure: false }), 42);
  await assert.rejects(bad.result(), (e: Error) => e instanceof RangeError && e.message === "no");
  const returned = await bad.result({ raiseOnFailure: false });
  assert.ok(returned instanceof RangeError && returned.message === "no");
  await assert.rejects(skipped.result(), UpstreamTaskError);
  assert.ok((await skipped.result({ raiseOnFailure: false })) instanceof UpstreamTaskError);
});

test("a flow's final state has result(); a failed flow's state lists what failed, with its task runs' states and errors", async () => {
  const completed = await flow(async () => ok.submit(5)).returnState();
  assert.equal(completed.type, StateType.COMPLETED);
  assert.equal(await completed.result(), 10);

  let ids: { bad: string; other: string } | undefined;
  const failing = flow({ name: "failing" }, async () => {
    const good = ok.submit(1);
    const bad = boom.submit("first");
    const other = boom.submit("second"); // failed too, but not returned
    ids = { bad: bad.taskRunId, other: other.taskRunId };
    await other.wait();
    return { items: [good, ok.submit(2), bad], note: "x" };
  });
  const state = await failing.returnState();
  assert.equal(state.type, StateType.FAILED);
  assert.match(state.message ?? "", /1\/3 states in the flow's return value did not complete: result\.items\[2\] ended Failed: RangeError: first \(task run 'boom-/);
  const error = await state.result({ raiseOnFailure: false });
  assert.ok(error instanceof RangeError && error.message === "first");
  await assert.rejects(state.result(), RangeError);
  const failures = state.failures ?? [];
  assert.deepEqual(
    failures.map((p) => [p.path, p.taskRunId, p.state.name, p.state.error?.message]),
    [
      ["result.items[2]", ids!.bad, "Failed", "first"],
      [undefined, ids!.other, "Failed", "second"],
    ],
  );
  // The same through the throwing call: FlowRunError carries that state.
  await assert.rejects(failing(), (e: unknown) => e instanceof FlowRunError && e.state.failures?.length === 2);
});

test("a flow whose function throws lists the failed task runs it submitted", async () => {
  const state = await flow(async () => {
    await boom.submit("inside").result();
  }).returnState();
  assert.equal(state.type, StateType.FAILED);
  assert.deepEqual(state.failures?.map((p) => p.state.error?.message), ["inside"]);
});

test("a returned container with a failed state fails the flow (stricter than Prefect) and names the path; all completed is fine", async () => {
  const nested = flow(async () => {
    const bad = await boom.submit("deep").wait();
    return { summary: { parts: new Map([["a", [ok.submit(1), bad]]]) } };
  });
  const state = await nested.returnState();
  assert.equal(state.type, StateType.FAILED);
  assert.match(state.message ?? "", /result\.summary\.parts\.get\("a"\)\[1\] ended Failed: RangeError: deep$/);
  assert.equal(state.failures?.[0]?.path, 'result.summary.parts.get("a")[1]');

  const fine = flow(async () => ({ list: [ok.submit(1), await ok.submit(2).wait()] }));
  assert.deepEqual(await fine(), { list: [2, 4] });
});

test("result() of a state that is not final throws, whatever raiseOnFailure says; a cancelled one gives CancelledRunError", async () => {
  const slow = task(async () => new Promise((r) => setTimeout(r, 200)));
  const f = flow(async () => {
    const future = slow.submit();
    const running = future.state;
    future.cancel();
    const cancelled = await future.wait();
    return () => ({ running, cancelled, key: future.daskKey });
  });
  const { running, cancelled, key } = (await f())();
  await assert.rejects(running.result({ raiseOnFailure: false }), /not finished/);
  assert.ok((await cancelled.result({ raiseOnFailure: false })) instanceof CancelledRunError);
  assert.equal(key, undefined, "only Dask futures have a Dask key");
});
