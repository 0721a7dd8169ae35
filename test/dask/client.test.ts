import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { flow } from "../../src/index.ts";
import { usesClient } from "./tasks.ts";
import { DaskTaskRunner, getDaskClient } from "../../src/dask/index.ts";
import { captureStderr } from "../helpers.ts";
import { type TestCluster, startCluster } from "./fixtures.ts";

let cluster: TestCluster;
before(async () => {
  cluster = await startCluster([{ nthreads: 2 }]);
});
after(async () => {
  await cluster?.stop();
});

test("in a flow, getDaskClient() reaches the flow's cluster: Python callables and Dask collections", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    await using client = await getDaskClient();
    const sum = await client.compute<number>("db.from_sequence(range(100), npartitions=4).map(lambda x: x * 2).sum()");
    const added = await client.submit<number>("operator.add", [40, 2]);
    const array = await client.compute<number[]>("da.arange(6, chunks=2) * 3");
    return { sum, added, array, address: client.schedulerAddress };
  });
  assert.deepEqual(await f(), { sum: 9900, added: 42, array: [0, 3, 6, 9, 12, 15], address: cluster.address });
});

test("outside any run getDaskClient() makes a local cluster of its own, closed with the client", async () => {
  const client = await getDaskClient();
  try {
    assert.match(client.schedulerAddress, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await client.compute("dask.delayed(sum)([1, 2, 3])"), 6);
    assert.ok((await client.workers()).length >= 1);
  } finally {
    await client.close();
  }
});

test("inside a task on a worker, getDaskClient() reaches that worker's scheduler", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => usesClient.submit().result());
  assert.deepEqual(await f(), { sum: 6, address: cluster.address });
});

test("unresolved futures are named in a warning when the client's scope ends; errors are clear", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const client = await getDaskClient();
    client.compute("db.from_sequence(range(10)).sum()");
    await assert.rejects(client.submit("no_such_module.fn").result(), /cannot import 'no_such_module\.fn'/);
    await assert.rejects(client.compute("1 +").result(), /SyntaxError|invalid syntax/);
    assert.throws(() => client.submit("not a path"), /import path such as "operator\.add"/);
    await client.close();
  });
  const { output } = await captureStderr(() => f());
  assert.match(output, /WARNING .*1 Dask future\(s\) were never resolved before the client closed: compute\(db\.from_sequence\(range\(10\)\)\.sum\(\)\)/);
});
