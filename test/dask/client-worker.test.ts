/**
 * Clients and nested submits in tasks on workers: served by the task's own worker (no bridge process per task),
 * on scheduler clusters, threads-only clusters (workers at inproc://) and a 1-worker 1-thread cluster.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { flow } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { clientInTask, fanOut, leavesFutureInTask } from "./client-tasks.ts";
import { descendants, fileCluster } from "./fixtures.ts";

const cluster = fileCluster([{ nthreads: 1 }]);

const expected = (n: number) => Array.from({ length: n }, (_, i) => i * 2);

test("1 worker, 1 thread: a task that gets a client and waits for work it submitted finishes; no bridge on the worker", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const viaClient = clientInTask.submit(4);
    const nested = fanOut.submit(10);
    return { client: await viaClient.result(), nested: await nested.result() };
  });
  const { client, nested } = await f();
  assert.deepEqual(client.doubled, expected(4));
  assert.equal(client.added, 42);
  assert.equal(client.total, 6);
  assert.equal(client.squared, 49);
  assert.equal(client.address, cluster.address, "the client in the task is on its worker's scheduler");
  assert.equal(client.workers, 1);
  assert.equal(nested, 90);
  const workerPid = cluster.workers[0]!.pid!;
  assert.deepEqual(descendants(workerPid).filter((p) => /daskflow_bridge/.test(p.cmd)), [], "no bridge process was started for the task");
});

test("threads-only cluster (processes: false, inproc://): nested submits and getDaskClient() in a task work", async () => {
  const runner = new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 2, processes: false } });
  const f = flow({ taskRunner: runner }, async () => {
    const viaClient = clientInTask.submit(3);
    const nested = fanOut.submit(5);
    return { client: await viaClient.result(), nested: await nested.result() };
  });
  const { client, nested } = await f();
  assert.match(client.address, /^inproc:\/\//);
  assert.match(String(client.worker), /^inproc:\/\//);
  assert.deepEqual(client.doubled, expected(3));
  assert.equal(client.total, 6);
  assert.equal(nested, 20);
});

test("a task leaving a client's scope with an unresolved future fails with the error naming it", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const state = await leavesFutureInTask.submit().wait();
    return { type: state.type, error: state.error?.name, message: state.message };
  });
  const state = await f();
  assert.equal(state.type, "FAILED");
  assert.equal(state.error, "UnresolvedFuturesError");
  assert.match(String(state.message), /1 unresolved future\(s\): submit\(operator\.mul\)/);
});
