import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, task, ConcurrentTaskRunner, InvalidOptionError } from "../../src/index.ts";
import { sleep } from "../helpers.ts";

test("tasks on the ConcurrentTaskRunner run concurrently", async () => {
  let active = 0;
  let peak = 0;
  const work = task(async (_item: number) => {
    active++;
    peak = Math.max(peak, active);
    await sleep(30);
    active--;
  });
  const f = flow(async () => Promise.all(work.map([1, 2, 3, 4, 5, 6]).map((x) => x.wait())));
  await f();
  assert.equal(peak, 6);
});

test("maxWorkers bounds how many tasks run at once", async () => {
  let active = 0;
  let peak = 0;
  const work = task(async (_item: number) => {
    active++;
    peak = Math.max(peak, active);
    await sleep(20);
    active--;
  });
  const f = flow({ taskRunner: new ConcurrentTaskRunner({ maxWorkers: 2 }) }, async () =>
    Promise.all(work.map([1, 2, 3, 4, 5, 6, 7]).map((x) => x.result())),
  );
  await f();
  assert.equal(peak, 2);
});

test("each flow run gets its own copy of the runner; duplicate() and equals() keep the options", () => {
  const runner = new ConcurrentTaskRunner({ maxWorkers: 3 });
  const copy = runner.duplicate();
  assert.notEqual(copy, runner);
  assert.ok(copy.equals(runner));
  assert.ok(!copy.equals(new ConcurrentTaskRunner()));
  assert.throws(() => new ConcurrentTaskRunner({ maxWorkers: 0 }), (e: Error) => e instanceof InvalidOptionError && /maxWorkers/.test(e.message));
});

test("a task can submit tasks of its own to the same runner", async () => {
  const leaf = task((x: number) => x * 10);
  const parent = task(async (n: number) => {
    const futures = leaf.map(Array.from({ length: n }, (_, i) => i));
    return (await Promise.all(futures.map((f) => f.result()))).reduce((a, b) => a + b, 0);
  });
  const f = flow(async () => parent.submit(4).result());
  assert.equal(await f(), 60);
});
