/**
 * Every wait has an end (issue #21 item 5): a run no worker can take, and a bridge that stops answering, end in a
 * clear error within their bounds instead of waiting for ever. Real clusters; the bounds are shortened for the test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, task, StateType } from "../../src/index.ts";
import { DaskTaskRunner, annotate, getDaskClient } from "../../src/dask/index.ts";
import { descendants, fileCluster } from "./fixtures.ts";

const cluster = fileCluster([{ nthreads: 1 }]);

export const gpuWork = task({ name: "gpu-work" }, () => "ran");
export const cpuWork = task({ name: "cpu-work" }, (x: number) => x + 1);
export const sleepy = task({ name: "sleepy" }, (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));

test("a run that no worker can take ends CRASHED within its bound, naming what it asked for; other runs are unaffected", { timeout: 120_000 }, async () => {
  const started = Date.now();
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address, noWorkerTimeoutSeconds: 3 }) }, async () => {
    const stuck = annotate({ resources: { GPU: 1 } }, () => gpuWork.submit());
    const fine = cpuWork.submit(1);
    const state = await stuck.wait(); // plain fields: a crashed state in the return value would fail the flow
    return { stuck: { type: state.type, message: state.message }, fine: await fine.result() };
  });
  const { stuck, fine } = await f();
  assert.equal(fine, 2);
  assert.equal(stuck.type, StateType.CRASHED);
  assert.match(stuck.message ?? "", /Task run 'gpu-work-[\w-]+' waited \d+s for a Dask worker that can run it: no worker of tcp:\/\/127\.0\.0\.1:\d+ offers resources \{"GPU":1\}\. It was cancelled\./);
  assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
});

test("a bridge that stops answering fails a query within its bound, naming what was asked", { timeout: 120_000 }, async () => {
  const client = await getDaskClient({ address: cluster.address });
  const bridge = descendants().find((p) => p.cmd.includes("daskflow_bridge"));
  assert.ok(bridge, "the client's bridge process runs");
  process.env.DASKFLOW_REPLY_TIMEOUT_SECONDS = "3";
  process.kill(bridge.pid, "SIGSTOP");
  try {
    const started = Date.now();
    await assert.rejects(client.schedulerInfo(), /The Dask bridge \(pid \d+\) did not answer 'scheduler-info' within 3s/);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  } finally {
    delete process.env.DASKFLOW_REPLY_TIMEOUT_SECONDS;
    process.kill(bridge.pid, "SIGCONT");
  }
  await client.close();
});

test("the end of a client's scope waits for unresolved work at most closeTimeoutSeconds, then cancels it and names it", { timeout: 120_000 }, async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const started = Date.now();
    const error = await (async () => {
      await using client = await getDaskClient({ closeTimeoutSeconds: 2 });
      client.submit(sleepy, 20_000); // never read
    })().catch((e: unknown) => e);
    return { error: String(error), ms: Date.now() - started };
  });
  const { error, ms } = await f();
  assert.match(error, /UnresolvedFuturesError: .*The client waited 2s \(closeTimeoutSeconds\) for their work; 1 still running then were cancelled: task run 'sleepy-[\w-]+'/);
  assert.ok(ms < 10_000, `took ${ms} ms`);
});

// Last in this file: the cancelled task keeps the one-thread worker busy until its sleep ends.
test("a flow past its timeout ends at the timeout on Dask: its running task run is cancelled, not waited for", { timeout: 120_000 }, async () => {
  let state: Awaited<ReturnType<ReturnType<typeof sleepy.submit>["wait"]>> | undefined;
  const f = flow({ timeoutSeconds: 3, taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const running = sleepy.submit(20_000);
    void running.wait().then((s) => (state = s));
    return running.result();
  });
  const started = Date.now();
  const final = await f.returnState();
  assert.equal(final.name, "TimedOut");
  assert.equal(state?.type, StateType.CANCELLED);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
});
