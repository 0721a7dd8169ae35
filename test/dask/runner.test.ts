import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { flow, allowFailure, StateType, SerializationError, unmapped } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { add, describe, echo, fail, flaky, inc, say, sleepAsync } from "./tasks.ts";
import { captureStderr, withLoggingLevel } from "../helpers.ts";
import { VENV_BIN, fileCluster } from "./fixtures.ts";

const cluster = fileCluster([{ nthreads: 2 }, { nthreads: 2 }]);

const onCluster = () => new DaskTaskRunner({ address: cluster.address });

test("submit, map and chains run on the Dask workers and return their values", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const a = add.submit(1, 2);
    const b = add.submit(a, 10);
    const mapped = add.map([1, 2, 3], unmapped(b));
    return { b: await b.result(), mapped: await Promise.all(mapped.map((m) => m.result())) };
  });
  assert.deepEqual(await f(), { b: 13, mapped: [14, 15, 16] });
});

test("a long submit loop (its first tasks go ahead of the rest) keeps every dependency and result", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    await inc.submit(0).result(); // the runner is started: the next loop's first 64 submits are sent at once
    let chain = inc.submit(0);
    const all = [chain];
    for (let i = 1; i < 150; i++) all.push((chain = inc.submit(chain)));
    return Promise.all(all.map((x) => x.result()));
  });
  assert.deepEqual(await f(), Array.from({ length: 150 }, (_, i) => i + 1));
});

test("futures nested in arrays, objects and Maps become Dask dependencies", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const a = inc.submit(1);
    const b = inc.submit(a);
    return echo.submit({ list: [a, b], map: new Map([["b", b]]), when: new Date(0), big: 10n }).result();
  });
  assert.deepEqual(await f(), { list: [2, 3], map: new Map([["b", 3]]), when: new Date(0), big: 10n });
});

test("downstream of a failure ends NotReady on the cluster; allowFailure hands over the error", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const bad = fail.submit("broken");
    const skipped = inc.submit(bad);
    const after2 = inc.submit(skipped);
    const seen = describe.submit(allowFailure(bad));
    const states = { bad: await bad.wait(), skipped: await skipped.wait(), after: await after2.wait(), name: bad.taskRunName, id: bad.taskRunId };
    return { get: () => states, seen: await seen.result() };
  });
  const { get, seen } = await f();
  const { bad, skipped, after: chained, name, id } = get();
  assert.equal(bad.type, StateType.FAILED);
  assert.equal(bad.error?.name, "TypeError");
  assert.equal(bad.error?.message, "broken");
  // The worker's stack is kept, naming this machine's file and line (source maps of the shipped copy), not the
  // compiled copy under the worker's cache.
  assert.match(bad.error?.stack ?? "", /\/test\/dask\/tasks\.ts:15:\d+/, bad.error?.stack);
  assert.doesNotMatch(bad.error?.stack ?? "", /views\/run-|\.ts\.js/, bad.error?.stack);
  assert.equal(skipped.name, "NotReady");
  assert.match(skipped.message ?? "", new RegExp(`Upstream task run '${name}' \\(id ${id}\\) did not reach a 'COMPLETED' state`));
  assert.equal(chained.name, "NotReady");
  assert.equal(seen, "error TypeError: broken");
});

test("retries and their delays run in the sidecar", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const started = Date.now();
    const value = await flaky.submit(2).result();
    return { ...value, elapsed: Date.now() - started };
  });
  const { attempt, elapsed } = await f();
  assert.equal(attempt, 3);
  assert.ok(elapsed >= 600, `two retry delays (0.2 s + 0.4 s) elapsed: ${elapsed} ms`);
});

test("a task past its timeout fails TimedOut while others complete", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const slow = sleepAsync.submit(5000);
    const quick = sleepAsync.submit(10);
    const states = { slow: await slow.wait(), quick: await quick.result() };
    return () => states;
  });
  const { slow, quick } = (await f())();
  assert.equal(slow.type, StateType.FAILED);
  assert.equal(slow.name, "TimedOut");
  assert.equal(slow.error?.name, "TaskTimeoutError");
  assert.equal(quick, 10);
});

test("logs from workers appear in the flow's terminal with the task run name and worker", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const future = say.submit("hello from a worker");
    await future.result();
    return future.taskRunName;
  });
  const { value: runName, output } = await withLoggingLevel("DEBUG", () => captureStderr(() => f()));
  assert.match(output, new RegExp(`INFO    \\| Task run '${runName}' \\[tcp://127\\.0\\.0\\.1:\\d+\\] - hello from a worker`));
  assert.match(output, new RegExp(`WARNING \\| Task run '${runName}' \\[tcp://127\\.0\\.0\\.1:\\d+\\] - hello from a worker \\(warning\\)`));
  assert.match(output, new RegExp(`DEBUG   \\| Task run '${runName}' \\[tcp://[^\\]]+\\] - Finished in state Completed\\(\\)`));
  assert.match(output, /Connecting to an existing Dask cluster at tcp:\/\/127\.0\.0\.1:\d+/);
});

test("Dask keys start with the task's name, results leave the cluster once here, and nothing of the run is left after it", async () => {
  const script = (code: string) => execFileSync(join(VENV_BIN, "python"), ["-c", code], { encoding: "utf8" }).trim();
  const keysNow = () =>
    script(`from distributed import Client\nc = Client("${cluster.address}", timeout=10)\nprint(sorted(c.run_on_scheduler(lambda dask_scheduler: list(map(str, dask_scheduler.tasks)))))\nc.close()`);
  const f = flow({ taskRunner: onCluster() }, async () => {
    const futures = inc.map([1, 2, 3]);
    await Promise.all(futures.map((x) => x.wait()));
    const submitted = futures.map((x) => x.daskKey);
    // Their values came with their final states: the cluster need not hold them for this run any more.
    let during = keysNow();
    for (let i = 0; i < 50 && /'inc-/.test(during); i++) during = (await new Promise((r) => setTimeout(r, 100)), keysNow());
    return { submitted, during, later: await inc.submit(futures[2]!).result() };
  });
  const { submitted, during, later } = await f();
  assert.ok(submitted.every((k) => /^inc-[0-9a-f-]{36}$/.test(k!)), submitted.join());
  assert.doesNotMatch(during, /'inc-[0-9a-f-]{36}'/, "released once their results were in the flow process");
  assert.equal(later, 5, "a released future passed to a later task still gives its value (put back on the cluster)");
  const topics = script(
    `from distributed import Client\nc = Client("${cluster.address}", timeout=10)\nprint([t for t in c.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.get_events())) if t.startswith("daskflow")], c.run_on_scheduler(lambda dask_scheduler: [n for w in dask_scheduler.workers.values() for n in getattr(w, "plugins", [])]), sorted(c.run(lambda dask_worker: list(dask_worker.plugins)).values()))\nc.close()`,
  );
  assert.equal(keysNow(), "[]");
  assert.doesNotMatch(topics, /daskflow/);
});

test("an argument that cannot cross to a worker is an error at submit naming its path", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    echo.submit({ ok: 1, nested: [{ callback: () => 1 }] });
  });
  await assert.rejects(f(), (err: Error) => {
    const cause = (err.cause ?? err) as Error;
    assert.ok(cause instanceof SerializationError, `got ${cause.name}`);
    assert.match(cause.message, /echo\.submit\(\): an argument cannot be sent to a Dask worker: arguments\[0\]\.nested\[0\]\.callback is a function/);
    return true;
  });
});
