import { test } from "node:test";
import assert from "node:assert/strict";
import {
  flow,
  task,
  allowFailure,
  ConcurrentTaskRunner,
  FlowRunError,
  StateType,
  TaskTimeoutError,
  UpstreamTaskError,
  type TaskFuture,
} from "../../src/index.ts";
import { retryDelaySeconds } from "../../src/core/engine.ts";
import { sleep } from "../helpers.ts";

const fail = task((message: string): number => {
  throw new Error(message);
});
const inc = task((x: number) => x + 1);

test("a task downstream of a failed one does not run and ends PENDING 'NotReady' naming the upstream", async () => {
  let ran = false;
  const after = task((x: number) => {
    ran = true;
    return x;
  });
  // States are handed out through a function: a flow resolves states in its return value (a failed one fails it).
  const f = flow(async () => {
    const bad = fail.submit("boom");
    const downstream = after.submit(bad);
    const states = { bad: await bad.wait(), downstream: await downstream.wait(), name: bad.taskRunName, id: bad.taskRunId };
    return () => states;
  });
  const { bad, downstream, name, id } = (await f())();
  assert.equal(bad.type, StateType.FAILED);
  assert.equal(bad.error?.message, "boom");
  assert.equal(downstream.type, StateType.PENDING);
  assert.equal(downstream.name, "NotReady");
  assert.match(downstream.message ?? "", new RegExp(`Upstream task run '${name}' \\(id ${id}\\) did not reach a 'COMPLETED' state`));
  assert.equal(ran, false);
});

test("allowFailure lets a task run after a failed upstream and hands it the upstream's error", async () => {
  const inspect = task((value: unknown) => (value instanceof Error ? `error: ${value.message}` : `value: ${String(value)}`));
  const f = flow(async () => {
    const bad = fail.submit("nope");
    const good = inc.submit(1);
    return [await inspect.submit(allowFailure(bad)).result(), await inspect.submit(allowFailure(good)).result()];
  });
  assert.deepEqual(await f(), ["error: nope", "value: 2"]);
});

test("NotReady propagates down a chain: nothing downstream of a failure runs", async () => {
  const f = flow(async () => {
    const a = fail.submit("first");
    const b = inc.submit(a);
    const c = inc.submit(b);
    return (await c.wait()).name;
  });
  assert.equal(await f(), "NotReady");
});

test("result() throws the task's error; raiseOnFailure: false returns it", async () => {
  const f = flow(async () => {
    const bad = fail.submit("kaput");
    await assert.rejects(bad.result(), /kaput/);
    const returned = await bad.result({ raiseOnFailure: false });
    assert.ok((returned as unknown) instanceof Error);
    const downstream = inc.submit(bad);
    await assert.rejects(downstream.result(), (err: Error) => err instanceof UpstreamTaskError && /did not reach a 'COMPLETED'/.test(err.message));
    return "checked";
  });
  assert.equal(await f(), "checked");
});

test("a flow whose function throws raises FlowRunError carrying the FAILED state", async () => {
  const f = flow({ name: "thrower" }, async () => {
    throw new Error("flow broke");
  });
  await assert.rejects(f(), (err: unknown) => {
    assert.ok(err instanceof FlowRunError);
    assert.equal(err.state.type, StateType.FAILED);
    assert.match(err.message, /Flow run of 'thrower' finished in state Failed/);
    assert.equal((err.cause as Error).message, "flow broke");
    return true;
  });
});

test("returnState gives the final state instead of throwing", async () => {
  const bad = flow(async () => {
    throw new Error("x");
  });
  const good = flow(async (n: number) => n * 2);
  assert.equal((await bad.returnState()).type, StateType.FAILED);
  const state = await good.returnState(21);
  assert.equal(state.type, StateType.COMPLETED);
  assert.equal(state.data, 42);
});

test("a flow returning a failed future fails; returned futures and states are resolved to values", async () => {
  const failing = flow(async () => ({ ok: inc.submit(1), bad: fail.submit("returned") }));
  const state = await failing.returnState();
  assert.equal(state.type, StateType.FAILED);
  assert.match(state.message ?? "", /1\/2 states in the flow's return value did not complete/);
  const fine = flow(async () => {
    const a = inc.submit(1);
    return { a, list: [inc.submit(a)], state: await a.wait() };
  });
  assert.deepEqual(await fine(), { a: 2, list: [3], state: 2 });
});

test("a timed-out task fails as TimedOut while independent tasks complete", async () => {
  const slow = task({ timeoutSeconds: 0.05 }, async () => {
    await sleep(2000);
    return "late";
  });
  const f = flow(async () => {
    const s = slow.submit();
    const others = inc.map([1, 2, 3]);
    const states = { slow: await s.wait(), others: await Promise.all(others.map((o) => o.result())) };
    return () => states;
  });
  const started = Date.now();
  const { slow: state, others } = (await f())();
  assert.ok(Date.now() - started < 1500, "the timeout stops waiting for the task");
  assert.equal(state.type, StateType.FAILED);
  assert.equal(state.name, "TimedOut");
  assert.ok(state.error instanceof TaskTimeoutError);
  assert.deepEqual(others, [2, 3, 4]);
});

test("retries re-run a failing task, waiting retryDelaySeconds (one per retry) between attempts", async () => {
  const attempts: number[] = [];
  const flaky = task({ retries: 2, retryDelaySeconds: [0.05, 0.15] }, () => {
    attempts.push(Date.now());
    if (attempts.length < 3) throw new Error(`attempt ${attempts.length}`);
    return attempts.length;
  });
  const f = flow(async () => flaky.submit().result());
  assert.equal(await f(), 3);
  assert.equal(attempts.length, 3);
  assert.ok(attempts[1]! - attempts[0]! >= 45, `first delay ${attempts[1]! - attempts[0]!}ms`);
  assert.ok(attempts[2]! - attempts[1]! >= 140, `second delay ${attempts[2]! - attempts[1]!}ms`);
});

test("a task that exhausts its retries fails with its last error", async () => {
  let calls = 0;
  const always = task({ retries: 2 }, () => {
    calls++;
    throw new Error(`failure ${calls}`);
  });
  const f = flow(async () => {
    const state = await always.submit().wait();
    return () => state;
  });
  const state = (await f())();
  assert.equal(calls, 3);
  assert.equal(state.type, StateType.FAILED);
  assert.equal(state.error?.message, "failure 3");
});

test("retry delays: the last delay repeats, jitter stays within its factor", () => {
  assert.equal(retryDelaySeconds({ retryDelaySeconds: [1, 5] }, 1), 1);
  assert.equal(retryDelaySeconds({ retryDelaySeconds: [1, 5] }, 2), 5);
  assert.equal(retryDelaySeconds({ retryDelaySeconds: [1, 5] }, 7), 5);
  assert.equal(retryDelaySeconds({ retryDelaySeconds: 3 }, 4), 3);
  assert.equal(retryDelaySeconds({}, 1), 0);
  const samples = Array.from({ length: 200 }, () => retryDelaySeconds({ retryDelaySeconds: 10, retryJitterFactor: 0.5 }, 1));
  assert.ok(samples.every((s) => s >= 5 && s <= 15));
  assert.ok(new Set(samples).size > 100, "jitter varies the delay");
});

test("states pass through Scheduled (waiting for a slot) and Running to a final state with a timestamp", async () => {
  const slow = task(async (ms: number) => {
    await sleep(ms);
    return ms;
  });
  const f = flow({ taskRunner: new ConcurrentTaskRunner({ maxWorkers: 1 }) }, async () => {
    const first = slow.submit(60);
    const second = slow.submit(100);
    const seen = [first.state.type, second.state.type];
    await first.wait();
    await sleep(10);
    seen.push(second.state.type);
    const final = await second.wait();
    seen.push(final.type);
    assert.ok(final.timestamp <= Date.now() && final.timestamp > Date.now() - 5000);
    return seen;
  });
  assert.deepEqual(await f(), ["RUNNING", "SCHEDULED", "RUNNING", "COMPLETED"]);
});

test("a subflow runs inside a flow with its own run and returns its value", async () => {
  const child = flow({ name: "child" }, async (x: number) => inc.submit(x).result());
  const parent = flow({ name: "parent" }, async () => (await child(1)) + (await child(10)));
  assert.equal(await parent(), 13);
});

test("a flow timeout fails the run", async () => {
  const f = flow({ timeoutSeconds: 0.05 }, async () => sleep(1000));
  const state = await f.returnState();
  assert.equal(state.type, StateType.FAILED);
  assert.equal(state.name, "TimedOut");
});

test("a flow timeout ends the run at the timeout: task runs still going are cancelled, not waited for", async () => {
  const slow = task({ name: "slow" }, () => sleep(30_000));
  let future: TaskFuture<void> | undefined;
  const f = flow({ timeoutSeconds: 0.3 }, async () => {
    future = slow.submit();
    return future; // its result is part of the run: the timeout bounds waiting for it too
  });
  const started = Date.now();
  const state = await f.returnState();
  assert.equal(state.name, "TimedOut");
  assert.equal(future?.state.type, StateType.CANCELLED);
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
});
