import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, task, getRunLogger, InvalidOptionError, StateType, ConcurrentTaskRunner } from "../../src/index.ts";
import type { State } from "../../src/index.ts";
import { captureStderr } from "../helpers.ts";

type Seen = Array<{ hook: string; owner: string; run: string; state: string }>;
const record = (seen: Seen, hook: string) => (owner: { taskName?: string; flowName?: string }, run: { name: string }, state: State<unknown>) => {
  seen.push({ hook, owner: owner.taskName ?? owner.flowName ?? "?", run: run.name, state: state.name });
};

test("task hooks: onRunning once per attempt, onFailure once after retries, onCompletion with the run and state", async () => {
  const seen: Seen = [];
  let calls = 0;
  const flaky = task(
    { retries: 2, onRunning: record(seen, "running"), onFailure: record(seen, "failure"), onCompletion: [record(seen, "c1"), record(seen, "c2")] },
    function flaky(failTimes: number) {
      if (++calls <= failTimes) throw new Error(`attempt ${calls}`);
      return calls;
    },
  );
  const f = flow({ taskRunner: new ConcurrentTaskRunner() }, async () => {
    const ok = await flaky.submit(1).result();
    calls = 0;
    const bad = await flaky.submit(5).wait();
    return { ok, bad: bad.type };
  });
  assert.deepEqual(await f(), { ok: 2, bad: StateType.FAILED });
  assert.deepEqual(seen.map((s) => `${s.hook}:${s.state}`), [
    "running:Running", "running:Retrying", "c1:Completed", "c2:Completed",
    "running:Running", "running:Retrying", "running:Retrying", "failure:Failed",
  ]);
  assert.ok(seen.every((s) => s.owner === "flaky" && s.run.startsWith("flaky-")));
});

test("a hook that throws is logged as an ERROR naming it and does not change the run's state; the others still run", async () => {
  const seen: string[] = [];
  const t = task({ onCompletion: [function brokenHook() { throw new Error("hook boom"); }, () => void seen.push("second")] }, () => 7);
  const anonymous = task({ onFailure: [() => { throw new Error("anon boom"); }] }, () => { throw new Error("task boom"); });
  const f = flow(async () => ({ a: await t.submit().result(), b: (await anonymous.submit().wait()).type }));
  const { value, output } = await captureStderr(() => f());
  assert.deepEqual(value, { a: 7, b: StateType.FAILED });
  assert.deepEqual(seen, ["second"]);
  assert.match(output, /ERROR.*onCompletion hook 'brokenHook' failed \(the run's state stays Completed\): Error: hook boom/);
  assert.match(output, /ERROR.*onFailure hook #1 failed \(the run's state stays Failed\): Error: anon boom/);
});

test("hooks see the run's logger and can await; a direct call fires them too", async () => {
  const t = task({ onCompletion: async () => { await new Promise((r) => setTimeout(r, 20)); getRunLogger().warning("hook logged"); } }, () => 1);
  const { output } = await captureStderr(async () => assert.equal(await t(), 1));
  assert.match(output, /Task run 't-[^']*' - hook logged/);
});

test("cancelled runs fire onCancellation", async () => {
  const seen: Seen = [];
  const slow = task({ onCancellation: record(seen, "cancel") }, async () => {
    await new Promise((r) => setTimeout(r, 200));
    return 1;
  });
  const f = flow(async () => {
    const fut = slow.submit();
    await new Promise((r) => setTimeout(r, 20));
    fut.cancel();
    return (await fut.wait()).type;
  });
  assert.equal(await f(), StateType.CANCELLED);
  // In process a cancelled run's code is not stopped: its hook fires when that code returns.
  for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen.map((s) => `${s.hook}:${s.state}`), ["cancel:Cancelled"]);
});

test("flow hooks: onRunning, then the final state's hook, for completion, failure and timeout", async () => {
  const seen: Seen = [];
  const hooks = { onRunning: record(seen, "running"), onCompletion: record(seen, "completion"), onFailure: record(seen, "failure"), onCrashed: record(seen, "crashed") };
  const ok = flow({ ...hooks, name: "ok-flow" }, () => 1);
  const bad = flow({ ...hooks, name: "bad-flow" }, () => { throw new Error("nope"); });
  const slow = flow({ ...hooks, name: "slow-flow", timeoutSeconds: 0.1 }, () => new Promise((r) => setTimeout(r, 2000)));
  await ok();
  await bad.returnState();
  await slow.returnState();
  assert.deepEqual(seen.map((s) => `${s.owner}:${s.hook}:${s.state}`), [
    "ok-flow:running:Running", "ok-flow:completion:Completed",
    "bad-flow:running:Running", "bad-flow:failure:Failed",
    "slow-flow:running:Running", "slow-flow:failure:TimedOut",
  ]);
});

test("hook options are validated with a clear message", () => {
  assert.throws(() => task({ onCompletion: "notify" as never }, () => 1), (e: Error) =>
    e instanceof InvalidOptionError && /task\(\): option 'onCompletion' must be a function \(task or flow, run, state\) => void, or an array of them, got "notify"/.test(e.message));
  assert.throws(() => flow({ onFailure: [() => {}, 3] as never }, () => 1), /flow\(\): option 'onFailure' must be a function/);
});

test("a run cancelled while it waited for a slot fires onCancellation", async () => {
  const seen: string[] = [];
  const slow = task(() => new Promise((r) => setTimeout(r, 100)));
  const queued = task({ onCancellation: (_t, _r, s) => void seen.push(s.name) }, () => 1);
  const f = flow({ taskRunner: new ConcurrentTaskRunner({ maxWorkers: 1 }) }, async () => {
    const first = slow.submit();
    const second = queued.submit();
    second.cancel();
    await first.wait();
    return (await second.wait()).type;
  });
  assert.equal(await f(), StateType.CANCELLED);
  for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen, ["Cancelled"]);
});
