import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, task, concurrency, ConcurrentTaskRunner, InvalidOptionError, StateType } from "../../src/index.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Most of `events` ("+" start, "-" end) open at once. */
function peak(events: string[]): number {
  let now = 0;
  let most = 0;
  for (const e of events) most = Math.max(most, (now += e === "+" ? 1 : -1));
  return most;
}

test("ConcurrentTaskRunner: at most `limit` runs of a tag at once; untagged runs do not wait", async () => {
  const events: string[] = [];
  const order: string[] = [];
  const db = task({ tags: ["db"] }, async (i: number) => {
    events.push("+");
    await sleep(30);
    events.push("-");
    return i;
  });
  const free = task(() => void order.push("free"));
  const f = flow({ taskRunner: new ConcurrentTaskRunner({ concurrencyLimits: { db: 2 } }) }, async () => {
    const limited = db.map([1, 2, 3, 4, 5, 6]);
    await free.submit().result();
    order.push(`db done: ${limited.filter((x) => x.done).length}`);
    return Promise.all(limited.map((x) => x.result()));
  });
  assert.deepEqual(await f(), [1, 2, 3, 4, 5, 6]);
  assert.equal(peak(events), 2);
  assert.deepEqual(order, ["free", "db done: 0"], "the untagged run finished before any limited one");
});

test("a run that waits longer than its limit's timeoutSeconds fails TimedOut naming the limit, and fires onFailure", async () => {
  const failed: string[] = [];
  const hold = task({ tags: ["api"] }, () => sleep(500));
  const late = task({ tags: ["api"], onFailure: (_t, _r, s) => void failed.push(s.name) }, () => 1);
  const f = flow({ taskRunner: new ConcurrentTaskRunner({ concurrencyLimits: { api: { limit: 1, timeoutSeconds: 0.1 } } }) }, async () => {
    const first = hold.submit();
    const second = late.submit();
    const secondState = await second.wait();
    return { first: (await first.wait()).type, get: () => secondState };
  });
  const { first, get } = await f();
  const second = get();
  assert.equal(first, StateType.COMPLETED);
  assert.equal(second.type, StateType.FAILED);
  assert.equal(second.name, "TimedOut");
  assert.match(second.message ?? "", /waited more than 0\.1s for a slot of concurrency limit 'api' \(1 at a time, run scope\)/);
  assert.deepEqual(failed, ["TimedOut"]);
});

test("concurrency() holds slots of the same limit inside tasks; occupy takes several", async () => {
  const events: string[] = [];
  const section = task(async (occupy: number) =>
    concurrency("db", { occupy }, async () => {
      for (let i = 0; i < occupy; i++) events.push("+");
      await sleep(20);
      for (let i = 0; i < occupy; i++) events.push("-");
    }),
  );
  const f = flow({ taskRunner: new ConcurrentTaskRunner({ concurrencyLimits: { db: 3 } }) }, async () => {
    await Promise.all([...section.map([1, 1, 2, 3, 1, 2])].map((x) => x.result()));
  });
  await f();
  assert.ok(peak(events) <= 3, `at most 3 slots held, saw ${peak(events)}`);
});

test("limits and concurrency() reject what could never run, with clear messages", async () => {
  assert.throws(() => new ConcurrentTaskRunner({ concurrencyLimits: { db: 0 } }), (e: Error) =>
    e instanceof InvalidOptionError && /option 'concurrencyLimits' 'db' is 0: no task tagged 'db' could ever run/.test(e.message));
  assert.throws(() => new ConcurrentTaskRunner({ concurrencyLimits: { db: { limit: 2, scope: "world" as never } } }), /scope must be "run" or "cluster"/);
  const f = flow({ taskRunner: new ConcurrentTaskRunner({ concurrencyLimits: { db: 2 } }) }, async () => {
    await assert.rejects(concurrency("db", { occupy: 3 }, () => 1), /occupy 3 is more than limit 'db' has \(2\)/);
    await assert.rejects(concurrency("nope", () => 1), /no concurrency limit named 'nope'.*it has 'db'/);
    return concurrency("db", () => 42);
  });
  assert.equal(await f(), 42);
  await assert.rejects(concurrency("db", () => 1), /call it inside a flow or task run/);
});

test("the progress line counts the runs waiting for each tag", async () => {
  const { currentScope } = await import("../../src/core/context.ts");
  const { Tally } = await import("../../src/core/progress/tally.ts");
  const { progressText } = await import("../../src/core/progress/format.ts");
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const db = task({ tags: ["db"] }, (_i: number) => gate);
  const f = flow({ progress: false, taskRunner: new ConcurrentTaskRunner({ concurrencyLimits: { db: 1 } }) }, async () => {
    const runs = db.map([1, 2, 3, 4]);
    while (!runs.some((r) => r.state.type === StateType.RUNNING)) await sleep(5);
    const text = progressText(new Tally(currentScope()!.futures!).update(), 0);
    release();
    await Promise.all(runs.map((r) => r.wait()));
    return text;
  });
  assert.match(await f(), /Progress: 0\/4 done, 0 failed, 1 running, 3 waiting for tag 'db'; /);
});
