/**
 * DataFrames across task boundaries and in every context: in a flow (the runner's cluster), in a task on a worker
 * (its scheduler), outside any run (a temporary local cluster).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { flow } from "../../src/index.ts";
import { DataFrame, DaskTaskRunner, col } from "../../src/dask/index.ts";
import { computeSum, createFrame, inspect, sumFrame } from "./dataframe-tasks.ts";
import { fileCluster } from "./fixtures.ts";

const cluster = fileCluster([{ nthreads: 2 }]);

test("Prefect's dataframe flow: a task returns a frame, a second sums it, a third computes { x: 3, y: 6 } on its worker", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const frame = createFrame.submit();
    const summed = sumFrame.submit(frame);
    const arrived = inspect.submit(frame);
    return { sum: await computeSum.submit(summed).result(), arrived: await arrived.result() };
  });
  assert.deepEqual(await f(), { sum: { x: 3, y: 6 }, arrived: { isDataFrame: true, op: "from_rows" } });
});

test("in a flow, a frame a task returned arrives as a DataFrame and compute() uses the flow's cluster", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const frame = await createFrame.submit().result();
    assert.ok(frame instanceof DataFrame);
    const rows = await frame.assign({ z: col("x").add(col("y")) }).compute();
    const total = await (await sumFrame.submit(frame).result()).compute();
    return { rows, total };
  });
  assert.deepEqual(await f(), { rows: [{ x: 1, y: 2, z: 3 }, { x: 1, y: 2, z: 3 }, { x: 1, y: 2, z: 3 }], total: { x: 3, y: 6 } });
});

test("with the in-process runner the same flow gives the same result (frames pass as they are)", async () => {
  const f = flow(async () => computeSum(await sumFrame(await createFrame())));
  assert.deepEqual(await f(), { x: 3, y: 6 });
});
