/**
 * A flow run holds its task runs' futures only while they are open (src/core/run-futures.ts): a finished future the
 * flow's code dropped can be collected (on Dask, its result on the cluster is then released: test/dask/
 * result-lifetimes.test.ts), while the run still waits for open ones and lists the ones that failed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as turn } from "node:timers/promises";
import { flow, task, StateType } from "../../src/index.ts";
import { collectGarbage } from "../../src/transfer/collect-garbage.ts";

const double = task({ name: "double" }, (x: number) => x * 2);
const fail = task({ name: "fail", retries: 0 }, (): number => {
  throw new Error("boom");
});
const slow = task({ name: "slow" }, async (x: number) => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return x;
});

test("a finished future the flow's code dropped is not kept alive by the flow run", async () => {
  // In a function of its own: a suspended async frame may still hold its last value of a loop variable.
  const submitAndDrop = async (): Promise<WeakRef<object>[]> => {
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 5; i++) {
      const future = double.submit(i);
      refs.push(new WeakRef(future));
      assert.equal(await future.result(), i * 2);
    }
    return refs;
  };
  const alive = await flow({ name: "drop-futures" }, async () => {
    const refs = await submitAndDrop();
    const kept = double.submit(10);
    await kept.wait();
    await turn(); // a WeakRef keeps its target until the end of the job that made or read it
    assert.ok(collectGarbage(), "this V8 lets the test collect garbage");
    await turn();
    return { dropped: refs.filter((r) => r.deref() !== undefined).length, kept: await kept.result() };
  })();
  assert.deepEqual(alive, { dropped: 0, kept: 20 });
});

test("the run still waits for runs nobody awaited, and a failed run lists what failed", async () => {
  const state = await flow({ name: "open-and-failed" }, async () => {
    slow.submit(1); // never awaited: the run waits for it
    await fail.submit().wait();
    return "done";
  }).returnState();
  assert.equal(state.type, StateType.COMPLETED, "a failure the code handled does not fail the flow");
  const failed = await flow({ name: "failed" }, async () => {
    const pending = slow.submit(2);
    fail.submit();
    await pending.wait();
    throw new Error("the flow fails");
  }).returnState();
  assert.equal(failed.type, StateType.FAILED);
  assert.deepEqual(failed.failures?.map((f) => f.taskRunName?.split("-")[0]), ["fail"], "the failed task run is listed");
});
