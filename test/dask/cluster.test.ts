import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flow, getRunContext, InvalidOptionError, StateType } from "../../src/index.ts";
import { DaskTaskRunner, annotate, type DaskCluster } from "../../src/dask/index.ts";
import { inc, napMs, whereAmI } from "./tasks.ts";
import { captureStderr, withLoggingLevel } from "../helpers.ts";
import { type TestCluster, startCluster } from "./fixtures.ts";

let shared: TestCluster;
before(async () => {
  shared = await startCluster([{ nthreads: 2 }]);
});
after(async () => {
  await shared?.stop();
});

const runnerOf = () => getRunContext().taskRunner as DaskTaskRunner;

test("with no options: a LocalCluster sized by Dask, created on first submit, logged with its dashboard", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner() }, async () => {
    const before = runnerOf().cluster;
    const value = await inc.submit(1).result();
    return { before, value, workers: (await runnerOf().workers()).length };
  });
  const { value, output } = await withLoggingLevel("INFO", () => captureStderr(() => f()));
  assert.equal(value.before, undefined, "no cluster before the first submit");
  assert.equal(value.value, 2);
  assert.ok(value.workers >= 1);
  assert.match(output, /Creating a new Dask cluster with `distributed\.LocalCluster`/);
  assert.match(output, /The Dask dashboard is available at http:\/\/127\.0\.0\.1:\d+\/status/);
});

test("clusterKwargs (camelCase or snake_case) shape the cluster: 2 workers × 1 thread", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ clusterKwargs: { nWorkers: 2, threads_per_worker: 1 } }) }, async () => {
    const workers = await runnerOf().workers();
    const where = await Promise.all(whereAmI.map([1, 2, 3, 4, 5, 6]).map((x) => x.result()));
    return { workers, workerPids: new Set(where.map((w) => w.workerPid)).size };
  });
  const { workers, workerPids } = await f();
  assert.equal(workers.length, 2);
  assert.ok(workers.every((w) => w.nthreads === 1));
  assert.ok(workerPids >= 1 && workerPids <= 2);
});

test("clusterClass by import path, by TypeScript class, and by sync or async factory", async () => {
  const created: string[] = [];
  class ExistingScheduler implements DaskCluster {
    readonly address: string;
    constructor(kwargs: Record<string, unknown>) {
      created.push(`class ${JSON.stringify(kwargs)}`);
      this.address = shared.address;
    }
    close(): void {
      created.push("class closed");
    }
  }
  const variants = [
    new DaskTaskRunner({ clusterClass: "distributed.LocalCluster", clusterKwargs: { n_workers: 1, threads_per_worker: 1, processes: false } }),
    new DaskTaskRunner({ clusterClass: ExistingScheduler, clusterKwargs: { some: "kwargs" } }),
    new DaskTaskRunner({ clusterClass: () => shared.address }),
    new DaskTaskRunner({
      clusterClass: async (kwargs) => {
        created.push(`factory ${JSON.stringify(kwargs)}`);
        return { pythonClass: "distributed.LocalCluster", kwargs: { ...kwargs, processes: false } };
      },
      clusterKwargs: { nWorkers: 1 },
    }),
  ];
  for (const runner of variants) {
    const f = flow({ taskRunner: runner }, async () => inc.submit(41).result());
    assert.equal(await f(), 42);
  }
  assert.deepEqual(created, ['class {"some":"kwargs"}', "class closed", 'factory {"n_workers":1}']);
});

test("a cluster class that cannot be imported is a clear error naming it", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ clusterClass: "no_such_package.Cluster" }) }, async () => inc.submit(1).result());
  const state = await f.returnState();
  assert.equal(state.type, StateType.CRASHED);
  assert.match(state.message ?? "", /cannot import cluster class 'no_such_package\.Cluster'/);
});

test("several flow runs share one scheduler by address; the runner never shuts it down", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: shared.address }) }, async (n: number) =>
    Promise.all(inc.map([n, n + 1]).map((x) => x.result())),
  );
  assert.deepEqual(await Promise.all([f(1), f(10), f(100)]), [
    [2, 3],
    [11, 12],
    [101, 102],
  ]);
  assert.equal(shared.scheduler.exitCode, null, "the scheduler still runs");
  assert.deepEqual(await f(5), [6, 7]);
});

test("performanceReportPath writes Dask's HTML performance report", async () => {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-report-"));
  const path = join(dir, "report.html");
  try {
    const f = flow({ taskRunner: new DaskTaskRunner({ address: shared.address, performanceReportPath: path }) }, async () =>
      Promise.all(inc.map([1, 2, 3]).map((x) => x.result())),
    );
    await f();
    assert.ok(existsSync(path));
    assert.match(readFileSync(path, "utf8").slice(0, 5000), /<html|<!DOCTYPE html/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("adaptKwargs: workers are added under load and removed after", async () => {
  const f = flow(
    {
      taskRunner: new DaskTaskRunner({
        clusterKwargs: { n_workers: 1, threads_per_worker: 1, processes: false },
        adaptKwargs: { minimum: 1, maximum: 3, interval: "300ms", wait_count: 2, target_duration: "1s" },
      }),
    },
    async () => {
      const runner = runnerOf();
      const load = napMs.map(Array.from({ length: 12 }, () => 1500));
      let peak = 0;
      while (load.some((x) => !x.done)) {
        peak = Math.max(peak, (await runner.workers()).length);
        await new Promise((r) => setTimeout(r, 300));
      }
      let after = peak;
      const deadline = Date.now() + 30_000;
      while (after > 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        after = (await runner.workers()).length;
      }
      return { peak, after };
    },
  );
  const { peak, after: settled } = await f();
  assert.ok(peak > 1, `scaled up to ${peak} workers under load`);
  assert.equal(settled, 1, "scaled back down to the minimum");
});

test("the reference example: one worker with { GPU: 1, process: 1 }; process tasks run one at a time", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 2, resources: { GPU: 1, process: 1 } } }) }, async () => {
    const gpu = annotate({ resources: { GPU: 1 } }, () => napMs.submit(10));
    const cpu = annotate({ resources: { process: 1 } }, () => [napMs.submit(300), napMs.submit(300), napMs.submit(300)]);
    return { gpu: await gpu.result(), cpu: await Promise.all(cpu.map((x) => x.result())) };
  });
  const { gpu, cpu } = await f();
  assert.ok(gpu.end >= gpu.start);
  const spans = cpu.map((c) => [c.start, c.end] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    assert.ok(spans[i]![0] >= spans[i - 1]![1], `process task ${i} started at ${spans[i]![0]} before ${i - 1} ended at ${spans[i - 1]![1]}`);
  }
});

test("annotate applies to nested and async submits, and priorities reach Dask", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: shared.address }) }, async () =>
    annotate({ priority: 10 }, async () => {
      await new Promise((r) => setTimeout(r, 10));
      return annotate({ retries: 1 }, () => inc.submit(1).result());
    }),
  );
  assert.equal(await f(), 2);
  assert.throws(() => annotate({ resources: { GPU: -1 } }, () => 1), /annotate\(\): option 'resources' must map resource names to amounts >= 0/);
  assert.throws(() => annotate({ priorty: 1 } as never, () => 1), /unknown option 'priorty'/);
});

test("option validation: address with cluster options, asynchronous, bad values", () => {
  assert.throws(
    () => new DaskTaskRunner({ address: "tcp://127.0.0.1:8786", clusterKwargs: { n_workers: 2 } }),
    (e: Error) => e instanceof InvalidOptionError && /'address' connects to an existing cluster, so it cannot be combined with 'clusterKwargs'/.test(e.message),
  );
  assert.throws(() => new DaskTaskRunner({ clusterKwargs: { asynchronous: true } }), /must not set 'asynchronous'/);
  assert.throws(() => new DaskTaskRunner({ clientKwargs: { asynchronous: false } }), /'clientKwargs' must not set 'asynchronous'/);
  assert.throws(() => new DaskTaskRunner({ address: "localhost" }), /must be a scheduler address such as "tcp:\/\/127\.0\.0\.1:8786"/);
  assert.throws(() => new DaskTaskRunner({ clusterClass: "not a path" }), /must be a Python import path/);
  assert.throws(() => new DaskTaskRunner({ nWorkers: 2 } as never), /unknown option 'nWorkers'/);
});

test("duplicate() and equals()", () => {
  const runner = new DaskTaskRunner({ clusterKwargs: { n_workers: 2 }, adaptKwargs: { maximum: 4 } });
  const copy = runner.duplicate();
  assert.notEqual(copy, runner);
  assert.ok(copy.equals(runner));
  assert.ok(!runner.equals(new DaskTaskRunner({ clusterKwargs: { n_workers: 3 } })));
  assert.ok(!runner.equals(new DaskTaskRunner()));
});
