import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, concurrency, StateType, InvalidOptionError } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { dbSection, dbWork, holdThenDie, taggedDie, untagged } from "./limits-tasks.ts";
import { fileCluster, startCluster } from "./fixtures.ts";

// Short leases (renewed every 0.4 s by their holder) and a scheduler that checks them often: a dead holder's slot
// comes back within ~2 s instead of Dask's default 30 s. The bridge and workers read the lease timeout from here.
process.env.DASK_DISTRIBUTED__SCHEDULER__LOCKS__LEASE_TIMEOUT = "2s";
const SCHEDULER_ENV = { DASK_DISTRIBUTED__SCHEDULER__LOCKS__LEASE_VALIDATION_INTERVAL: "100ms", DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES: "0" };
const cluster = fileCluster([{ nthreads: 2 }, { nthreads: 2 }], SCHEDULER_ENV);

type Interval = readonly [number, number];
/** Most intervals open at one instant. */
function peak(intervals: readonly Interval[]): number {
  const points = intervals.flatMap(([s, e]) => [[s, 1], [e, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of points) most = Math.max(most, (now += d));
  return most;
}

test("a per-run limit: at most 2 'db' runs at once on a 4-thread cluster, tagged tasks and concurrency() sections alike", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address, concurrencyLimits: { db: 2 } }) }, async () => {
    const runs = [...dbWork.map([300, 300, 300, 300]), ...dbSection.map([300, 300])];
    return Promise.all(runs.map((r) => r.result()));
  });
  const intervals = await f();
  assert.equal(intervals.length, 6);
  assert.equal(peak(intervals), 2);
});

test("a cluster limit is shared by two flow runs on one scheduler", async () => {
  const runner = () => new DaskTaskRunner({ address: cluster.address, concurrencyLimits: { db: { limit: 1, scope: "cluster" } } });
  const one = flow({ taskRunner: runner() }, () => Promise.all(dbWork.map([250, 250, 250]).map((r) => r.result())));
  const two = flow({ taskRunner: runner() }, () => Promise.all(dbWork.map([250, 250, 250]).map((r) => r.result())));
  const [a, b] = await Promise.all([one(), two()]);
  assert.equal(peak([...a, ...b]), 1, "never two 'db' runs at once across the two flow runs");
});

test("a task that waits past its limit's timeoutSeconds fails TimedOut naming the limit", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address, concurrencyLimits: { db: { limit: 1, timeoutSeconds: 0.5 } } }) }, async () => {
    const first = dbWork.submit(2500);
    const second = dbWork.submit(10);
    const state = await second.wait();
    await first.wait();
    return { get: () => state };
  });
  const state = (await f()).get();
  assert.equal(state.type, StateType.FAILED);
  assert.equal(state.name, "TimedOut");
  assert.match(state.message ?? "", /waited more than 0\.5s for a slot of concurrency limit 'db' \(1 at a time, run scope\) and did not run/);
});

test("a cluster limit given another size by a second flow run fails its tasks, saying so", async () => {
  const sized = (limit: number) => new DaskTaskRunner({ address: cluster.address, concurrencyLimits: { sized: { limit, scope: "cluster" } } });
  const tagged = dbWork.withOptions({ tags: ["sized"] });
  const first = flow({ taskRunner: sized(1) }, () => tagged.submit(10).result());
  await first();
  const second = flow({ taskRunner: sized(2) }, async () => {
    const state = await tagged.submit(10).wait();
    return { get: () => state };
  });
  const state = (await second()).get();
  assert.equal(state.type, StateType.CRASHED);
  assert.match(state.message ?? "", /concurrency limit 'sized' \(cluster scope\) is already held on this cluster with another number of slots than 2.*give it the same limit in every flow run/);
});

test("a batch takes one slot for its items; a batch that waits too long fails every item TimedOut", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address, concurrencyLimits: { db: { limit: 1, timeoutSeconds: 1.5 } } }) }, async () => {
    const batched = dbWork.with({ batchSize: 2 }).map([300, 300, 300, 300]);
    const intervals = await Promise.all(batched.map((r) => r.result()));
    const holder = dbWork.submit(4000);
    await new Promise((r) => setTimeout(r, 500));
    const late = dbWork.with({ batchSize: 2 }).map([10, 10]);
    const states = await Promise.all(late.map((r) => r.wait()));
    await holder.wait();
    return { intervals, get: () => states };
  });
  const { intervals, get } = await f();
  assert.equal(peak(intervals), 1);
  const states = get();
  assert.deepEqual(states.map((s) => `${s.type} ${s.name}`), ["FAILED TimedOut", "FAILED TimedOut"]);
  assert.match(states[0]!.message ?? "", /concurrency limit 'db'/);
});

test("a limit of 0 is refused with a clear message", () => {
  assert.throws(() => new DaskTaskRunner({ address: cluster.address, concurrencyLimits: { db: 0 } }), (e: Error) =>
    e instanceof InvalidOptionError && /DaskTaskRunner: option 'concurrencyLimits' 'db' is 0: no task tagged 'db' could ever run/.test(e.message));
});

test("a worker killed while it holds a slot gives it back within the lease timeout; a killed tagged task's slot too", async () => {
  await cluster.addWorker({ nthreads: 2 }); // this test kills two workers
  await cluster.addWorker({ nthreads: 2 });
  const limits = { db: { limit: 1, scope: "cluster" as const } };
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address, concurrencyLimits: limits }) }, async () => {
    const died = await holdThenDie.submit().wait(); // its worker's session held the slot: now nobody renews it
    const started = Date.now();
    const after = await concurrency("db", { timeoutSeconds: 20 }, () => Date.now() - started);
    const tagged = await taggedDie.submit().wait();
    const next = await dbWork.submit(10).wait(30);
    return { died: died.type, after, tagged: tagged.type, next: next.type };
  });
  const r = await f();
  assert.equal(r.died, StateType.CRASHED);
  // Held until its lease ran out (it was not given back by anyone), then back well within the wait's bound.
  assert.ok(r.after >= 500 && r.after < 15_000, `the dead holder's slot came back after ${r.after} ms (lease timeout 2 s)`);
  assert.equal(r.tagged, StateType.CRASHED);
  assert.equal(r.next, StateType.COMPLETED, "the killed tagged task's slot was given back");
});

test("one worker thread: a limited task waiting for its slot does not hold it; the unlimited one runs", async () => {
  const single = await startCluster([{ nthreads: 1 }], SCHEDULER_ENV);
  try {
    const runner = new DaskTaskRunner({ address: single.address, concurrencyLimits: { db: { limit: 1, scope: "cluster" } } });
    const f = flow({ taskRunner: runner }, async () =>
      // The flow holds the only 'db' slot while both are submitted together.
      concurrency("db", async () => {
        const limited = dbWork.submit(10);
        const free = untagged.submit();
        const freeState = await free.wait(60);
        const limitedMeanwhile = limited.state.name;
        return { free: freeState.type, limitedMeanwhile, get: () => limited };
      }).then(async (r) => ({ ...r, limited: (await r.get().wait(60)).type })),
    );
    const r = await f();
    assert.equal(r.free, StateType.COMPLETED, "the unlimited task ran on the only thread");
    assert.equal(r.limitedMeanwhile, "AwaitingConcurrencySlot");
    assert.equal(r.limited, StateType.COMPLETED, "the limited one ran once the slot was free");
  } finally {
    await single.stop();
  }
});
