import { test } from "node:test";
import assert from "node:assert/strict";
import { allowFailure, flow, StateType } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { checked, bigResult, inc, add, fail, echo, describe } from "./tasks.ts";
import { schedulerTaskKeys, fileCluster } from "./fixtures.ts";

const cluster = fileCluster([{ nthreads: 2 }, { nthreads: 1 }]);

const onCluster = () => new DaskTaskRunner({ address: cluster.address });


test("a batched map gives one future and one state per item, with per-item failures and retries", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const futures = checked.with({ batchSize: 4 }).map([1, 2, -3, 13, 5, 6, 7, -8, 9, 10]);
    const states = await Promise.all(futures.map((x) => x.wait()));
    const keys = [...new Set(futures.map((x) => x.daskKey!))];
    const values = await Promise.all(futures.map((x) => x.result({ raiseOnFailure: false })));
    return { keys, get: () => ({ states, values }) };
  });
  const { keys, get } = await f();
  const { states, values } = get();
  assert.equal(keys.length, 3, "10 items in batches of 4 are 3 Dask tasks");
  assert.ok(keys.every((k) => /^checked-batch-/.test(k)));
  assert.deepEqual(
    states.map((s) => s.type),
    ["COMPLETED", "COMPLETED", "FAILED", "COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "COMPLETED", "COMPLETED"],
  );
  assert.equal(values[3], 130, "item 13 succeeded on its third attempt");
  assert.ok((values[2] as unknown) instanceof RangeError && (values[2] as unknown as Error).message === "negative: -3");
  assert.deepEqual(values.filter((v) => typeof v === "number"), [10, 20, 130, 50, 60, 70, 90, 100]);
});

test("items of a batch feed later tasks and batches; a failed item's dependents end NotReady", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const first = checked.with({ batchSize: 3 }).map([1, -2, 3]);
    const second = inc.with({ batchSize: 2 }).map(first);
    const sum = add.submit(first[0]!, second[2]!);
    const states = await Promise.all(second.map((x) => x.wait()));
    return { sum: await sum.result(), get: () => states };
  });
  const { sum, get } = await f();
  const states = get();
  assert.deepEqual(states.map((s) => s.type), [StateType.COMPLETED, StateType.PENDING, StateType.COMPLETED]);
  assert.equal(states[1]!.name, "NotReady");
  assert.equal(sum, 10 + 31);
});

test("results too big to travel with their states are fetched when asked for", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const futures = bigResult.with({ batchSize: 2 }).map([200_000, 10, 300_000]);
    return (await Promise.all(futures.map((x) => x.result()))).map((s) => s.length);
  });
  assert.deepEqual(await f(), [200_000, 10, 300_000]);
});

test("a map of many items is batched automatically; batchSize: 1 turns it off", async () => {
  const items = Array.from({ length: 1200 }, (_, i) => i);
  const f = flow({ taskRunner: onCluster() }, async (batchSize?: number) => {
    const futures = batchSize ? inc.with({ batchSize }).map(items) : inc.map(items);
    const values = await Promise.all(futures.map((x) => x.result()));
    const keys = new Set(futures.map((x) => x.daskKey!));
    return { keys: keys.size, sum: values.reduce((a, b) => a + b, 0) };
  });
  const auto = await f();
  assert.equal(auto.sum, (1200 * 1201) / 2);
  assert.ok(auto.keys > 1 && auto.keys <= 256, `auto-batched into ${auto.keys} Dask tasks`);
  const single = await f(1);
  assert.equal(single.sum, (1200 * 1201) / 2);
  assert.equal(single.keys, 1200, `batchSize: 1 gives one Dask task per item (${single.keys})`);
});

test("results leave the cluster once the flow process has them; later tasks still get them (single, batch, failed, large)", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const single = inc.submit(1);
    const batch = inc.with({ batchSize: 3 }).map([10, 20, 30, 40]);
    const failed = fail.submit("no");
    const big = bigResult.submit(3 * 2 ** 20); // fetched, not inline
    await Promise.all([single, ...batch, failed, big].map((x) => x.wait()));
    const bigLength = (await big.result()).length;
    const keys = [single, batch[0]!, batch[3]!, failed, big].map((x) => x.daskKey!);
    const held = async () => {
      for (let i = 0; i < 50; i++) {
        const now = schedulerTaskKeys(cluster.address);
        if (!keys.some((k) => now.includes(k))) return [];
        await new Promise((r) => setTimeout(r, 100));
      }
      return keys.filter((k) => schedulerTaskKeys(cluster.address).includes(k));
    };
    const stillHeld = await held();
    // Released futures passed on: their values are put back on the cluster for the new tasks.
    const again = await Promise.all([add.submit(single, batch[3]!), add.submit(batch[1]!, batch[2]!)].map((x) => x.result()));
    const afterFailed = await describe.submit(allowFailure(failed)).result();
    const bigAgain = await echo.submit(big).result();
    return { bigLength, stillHeld, again, afterFailed, bigAgain: (bigAgain as string).length };
  });
  const out = await f();
  assert.deepEqual(out.stillHeld, [], "no result of those is held on the scheduler");
  assert.equal(out.bigLength, 3 * 2 ** 20);
  assert.deepEqual(out.again, [2 + 41, 21 + 31]);
  assert.match(out.afterFailed, /^error .*no/);
  assert.equal(out.bigAgain, 3 * 2 ** 20);
});
