import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, task, unmapped, InvalidOptionError, DaskflowError } from "../../src/index.ts";

const add = task(async (x: number, y: number) => x + y);
export const doubled = task((x: number) => x * 2);
const named = task({ name: "custom-name" }, (x: number) => x);
function namedFn(x: number) {
  return x;
}
const fromFn = task(namedFn);

test("a task's name comes from options, then the function, then the variable it is assigned to", () => {
  assert.equal(named.taskName, "custom-name");
  assert.equal(fromFn.taskName, "namedFn");
  assert.equal(doubled.taskName, "doubled");
  assert.equal(add.taskName, "add");
});

test("calling a task directly runs it and returns its value, inside and outside a flow", async () => {
  assert.equal(await add(2, 3), 5);
  const f = flow(async () => (await add(1, 1)) + (await doubled(4)));
  assert.equal(await f(), 10);
});

test("submit returns futures at once; futures passed as arguments are resolved first", async () => {
  const f = flow(async () => {
    const a = add.submit(1, 2);
    const b = add.submit(a, 10);
    const c = doubled.submit(b);
    return c.result();
  });
  assert.equal(await f(), 26);
});

test("futures nested in arrays, plain objects and Maps are resolved before the task runs", async () => {
  const echo = task((value: unknown) => value);
  const f = flow(async () => {
    const a = add.submit(1, 1);
    const b = add.submit(2, 2);
    return echo.submit({ list: [a, { b }], map: new Map([["k", a]]), plain: 7 }).result();
  });
  assert.deepEqual(await f(), { list: [2, { b: 4 }], map: new Map([["k", 2]]), plain: 7 });
});

test("map makes one run per item, broadcasting unmapped and non-iterable arguments", async () => {
  const f = flow(async () => {
    const futures = add.map([1, 2, 3], unmapped(10));
    const statics = add.map([1, 2], 100);
    return [await Promise.all(futures.map((x) => x.result())), await Promise.all(statics.map((x) => x.result()))];
  });
  assert.deepEqual(await f(), [
    [11, 12, 13],
    [101, 102],
  ]);
});

test("map over futures' values: items may be futures themselves", async () => {
  const f = flow(async () => {
    const firsts = add.map([1, 2], [10, 20]);
    const seconds = doubled.map(firsts);
    return Promise.all(seconds.map((x) => x.result()));
  });
  assert.deepEqual(await f(), [22, 44]);
});

test("map with arguments of different lengths is a clear error", async () => {
  const f = flow(async () => add.map([1, 2, 3], [1, 2]));
  await assert.rejects(f(), (err: Error) => {
    assert.match(err.message, /iterable arguments differ in length \(argument 1 has 3, argument 2 has 2\)/);
    return true;
  });
});

test("map without an iterable argument is a clear error that mentions unmapped", async () => {
  const f = flow(async () => add.map(1, 2));
  await assert.rejects(f(), /no argument to map over.*unmapped/);
  const g = flow(async () => add.map(add.submit(1, 1), unmapped(1)));
  await assert.rejects(g(), /a future is not mapped over/);
});

test("with({ waitFor }) starts a task only after the futures it waits for are final", async () => {
  const order: string[] = [];
  const slow = task(async () => {
    await new Promise((r) => setTimeout(r, 50));
    order.push("slow");
  });
  const fast = task(() => {
    order.push("fast");
  });
  const f = flow(async () => {
    const s = slow.submit();
    await fast.with({ waitFor: [s] }).submit().wait();
  });
  await f();
  assert.deepEqual(order, ["slow", "fast"]);
});

test("withOptions makes a variant with replaced options and leaves the original alone", async () => {
  let calls = 0;
  const flaky = task({ retries: 0 }, () => {
    calls++;
    if (calls < 3) throw new Error("not yet");
    return "ok";
  });
  const patient = flaky.withOptions({ retries: 5 });
  assert.equal(patient.options.retries, 5);
  assert.equal(flaky.options.retries, 0);
  assert.equal(await patient(), "ok");
  assert.equal(calls, 3);
});

test("submit outside a flow is a clear error", () => {
  assert.throws(() => add.submit(1, 2), (err: Error) => err instanceof DaskflowError && /outside a flow run/.test(err.message));
});

test("bad task options are rejected with a message naming the option", () => {
  assert.throws(() => task({ retries: -1 }, () => 1), (err: Error) => err instanceof InvalidOptionError && /option 'retries' must be a whole number >= 0, got -1/.test(err.message));
  assert.throws(() => task({ retry: 2 } as never, () => 1), /unknown option 'retry'. Did you mean 'retries'\?/);
  assert.throws(() => task({ timeoutSeconds: 0 }, () => 1), /'timeoutSeconds' must be a number > 0/);
  assert.throws(() => task({ retryDelaySeconds: [1, -2] }, () => 1), /'retryDelaySeconds' must contain numbers >= 0/);
  assert.throws(() => task("nope" as never), /expected a function/);
  assert.throws(() => add.with({ batchSize: 0 }), /'batchSize' must be a whole number >= 1/);
  assert.throws(() => flow({ taskRunner: {} as never }, async () => 1), /'taskRunner' must be a task runner/);
});

test("map with batchSize on the in-process runner still gives one future per item", async () => {
  const f = flow(async () => Promise.all(doubled.with({ batchSize: 3 }).map([1, 2, 3, 4, 5]).map((x) => x.result())));
  assert.deepEqual(await f(), [2, 4, 6, 8, 10]);
});
