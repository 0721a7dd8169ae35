/** Cluster classes as Dask users write them (issue 10 item 2): narrower constructors, synchronous-only classes,
 * adaptKwargs reaching adapt() for Python and TypeScript clusters, and a clear error for a cluster without adapt. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { flow, getRunContext, StateType } from "../../src/index.ts";
import { DaskTaskRunner, type DaskCluster } from "../../src/dask/index.ts";
import { double } from "./fixtures/tasks.ts";
import { REPO, type TestCluster, startCluster } from "./fixtures.ts";

// The bridge imports the fixture classes by import path, as it would a user's package.
const FIXTURES = join(REPO, "python", "tests", "fixtures");
const before_ = process.env.PYTHONPATH;
process.env.PYTHONPATH = before_ ? `${FIXTURES}:${before_}` : FIXTURES;

let shared: TestCluster;
before(async () => {
  shared = await startCluster([{ nthreads: 1 }]);
});
after(async () => {
  await shared?.stop();
  if (before_ === undefined) delete process.env.PYTHONPATH;
  else process.env.PYTHONPATH = before_;
});

const runnerOf = () => getRunContext().taskRunner as DaskTaskRunner;

/** Runs one task on the runner; returns its value and what the bridge reported about the cluster. */
async function runOn(runner: DaskTaskRunner) {
  return flow({ taskRunner: runner }, async () => ({ value: await double.submit(21).result(), cluster: runnerOf().cluster?.cluster_repr }))();
}

test("a LocalCluster subclass without host/dashboard_address/plugins gets the user's kwargs, its sidecars, and adapt()", async () => {
  const { value, cluster } = await runOn(
    new DaskTaskRunner({
      clusterClass: "daskflow_test_clusters.NarrowLocalCluster",
      clusterKwargs: { nWorkers: 1, label: "from-ts" },
      adaptKwargs: { minimum: 1, maximum: 2 },
    }),
  );
  assert.equal(value, 42, "the task ran: the worker plugin was registered through the client");
  assert.match(cluster ?? "", /label='from-ts'/);
  assert.match(cluster ?? "", /adapted=\{'maximum': 2, 'minimum': 1\}/);
  assert.match(cluster ?? "", /mode=async/);
});

test("a cluster class that does not take `asynchronous` runs in Dask's synchronous mode and still adapts", async () => {
  const { value, cluster } = await runOn(
    new DaskTaskRunner({ clusterClass: "daskflow_test_clusters.SyncOnlyCluster", clusterKwargs: { workers: 1 }, adaptKwargs: { maximum: 1 } }),
  );
  assert.equal(value, 42);
  assert.match(cluster ?? "", /adapted=\{'maximum': 1\}, mode=sync/);
});

test("adaptKwargs for a Python cluster without adapt() is a clear error", async () => {
  const state = await flow({ taskRunner: new DaskTaskRunner({ clusterClass: "daskflow_test_clusters.NoAdaptCluster", adaptKwargs: { maximum: 2 } }) }, async () =>
    double.submit(1).result(),
  ).returnState();
  assert.equal(state.type, StateType.CRASHED);
  assert.match(state.message ?? "", /has no adapt\(\) method: remove adaptKwargs/);
});

test("adaptKwargs reach a TypeScript cluster class's adapt(); one without adapt is a clear error", async () => {
  const calls: unknown[] = [];
  class Scaling implements DaskCluster {
    readonly address = shared.address;
    async adapt(kwargs: Record<string, unknown>) {
      await new Promise((r) => setTimeout(r, 10));
      calls.push(kwargs);
    }
    close() {}
  }
  class Fixed implements DaskCluster {
    readonly address = shared.address;
    close() {}
  }
  const { value } = await runOn(new DaskTaskRunner({ clusterClass: Scaling, adaptKwargs: { minimum: 1, maximum: 3 } }));
  assert.equal(value, 42);
  assert.deepEqual(calls, [{ minimum: 1, maximum: 3 }]);

  const state = await flow({ taskRunner: new DaskTaskRunner({ clusterClass: Fixed, adaptKwargs: { maximum: 3 } }) }, async () =>
    double.submit(1).result(),
  ).returnState();
  assert.equal(state.type, StateType.CRASHED);
  assert.match(state.message ?? "", /adaptKwargs were given, but Fixed \(from clusterClass\) has no adapt\(kwargs\) method/);
});
