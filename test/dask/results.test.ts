/** Issue 10 on a real cluster: sync timeouts, states with results, NotReady naming, Dask keys, returned
 * containers, and mistakes reported at once. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, task, InvalidOptionError, StateType, TaskTimeoutError } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { blockThenReturn, double, explode, shout } from "./fixtures/tasks.ts";
import { needsConfig } from "./fixtures/throws-on-worker.ts";
import { napMs } from "./tasks.ts";
import { schedulerTaskKeys, fileCluster } from "./fixtures.ts";

const cluster = fileCluster([{ nthreads: 2 }]);

const onCluster = () => new DaskTaskRunner({ address: cluster.address });

test("on Dask, a synchronous task that blocks past its timeout and then returns ends FAILED 'TimedOut', value dropped, downstream NotReady", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const late = blockThenReturn.submit(1500);
    const after = shout.submit(late);
    const inTime = blockThenReturn.submit(10);
    const states = { late: await late.wait(), after: await after.wait(), inTime: await inTime.result(), id: late.taskRunId, name: late.taskRunName };
    return () => states;
  });
  const { late, after: downstream, inTime, id, name } = (await f())();
  assert.equal(late.type, StateType.FAILED);
  assert.equal(late.name, "TimedOut");
  assert.ok(late.error instanceof TaskTimeoutError, `got ${late.error?.name}`);
  await assert.rejects(late.result(), TaskTimeoutError);
  assert.equal(downstream.name, "NotReady");
  assert.match(downstream.message ?? "", new RegExp(`Upstream task run '${name}' \\(id ${id}\\)`));
  assert.equal(inTime, "returned after 10 ms");
});

test("on Dask, every final state has result(); a failed flow's state reaches what failed and where it was returned", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const good = double.submit(21);
    const bad = explode.submit("bad input");
    const goodState = await good.wait();
    return { parts: [good, { inner: bad }], check: await goodState.result() };
  });
  const state = await f.returnState();
  assert.equal(state.type, StateType.FAILED);
  assert.match(state.message ?? "", /result\.parts\[1\]\.inner ended Failed: RangeError: bad input \(task run 'explode-/);
  const [part] = state.failures ?? [];
  assert.equal(part?.path, "result.parts[1].inner");
  assert.equal(part?.state.error?.name, "RangeError");
  assert.match(part?.state.error?.stack ?? "", /fixtures\/tasks\.ts/, "the worker's stack is kept");
  const error = await state.result({ raiseOnFailure: false });
  assert.ok(error instanceof Error && error.message === "bad input");
  // A completed state fetched from the cluster on demand.
  const ok = await flow({ taskRunner: onCluster() }, async () => {
    const s = await double.submit(50).wait();
    return () => s;
  })();
  assert.equal(await ok().result(), 100);
});

test("a future from DaskTaskRunner tells its Dask key, which starts with the task's name and is on the scheduler while it runs", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const single = napMs.submit(1500);
    const batched = napMs.with({ batchSize: 2 }).map([1500, 1500, 1500]);
    const keys = [single, ...batched].map((x) => x.daskKey!);
    let held: string[] = [];
    for (let i = 0; i < 50 && !keys.every((k) => held.includes(k)); i++) {
      await new Promise((r) => setTimeout(r, 50));
      held = schedulerTaskKeys(cluster.address);
    }
    await Promise.all([single, ...batched].map((x) => x.wait()));
    return { single: single.daskKey, batched: batched.map((x) => x.daskKey), held };
  });
  const { single, batched, held } = await f();
  assert.match(single ?? "", /^napMs-/);
  assert.ok(held.includes(single!), `${single} is on the scheduler (${held.join(", ")})`);
  assert.ok(batched.every((k) => /^napMs-batch-/.test(k ?? "")), batched.join());
  assert.equal(batched[0], batched[1], "items of one batch share its key");
  assert.ok(held.includes(batched[2]!));
});

test("a task defined inside a flow body fails at submit, in the flow process, saying to define it at module top level", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const local = task((x: number) => x);
    return local.submit(1).result();
  });
  const started = Date.now();
  await assert.rejects(f(), (e: Error) => {
    const cause = e.cause as Error;
    assert.ok(cause instanceof InvalidOptionError, `got ${cause?.name}`);
    assert.match(cause.message, /Task 'local' was defined inside a function \(.*results\.test\.ts:\d+\).*top level of a module/);
    return true;
  });
  assert.ok(Date.now() - started < 30_000, "not after a registration timeout");
});

test("a task module that throws while the worker imports it fails the task at once with that error and its stack", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const s = await needsConfig.submit(1).wait();
    return () => s;
  });
  const state = (await f())();
  assert.equal(state.type, StateType.FAILED);
  assert.equal(state.error?.name, "ReferenceError");
  assert.match(state.error?.message ?? "", /DATABASE_URL is not set on this machine/);
  assert.match(state.error?.stack ?? "", /throws-on-worker\.ts/);
});
