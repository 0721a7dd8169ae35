/** DaskClient in a flow and outside any run, on real clusters: every method, the scope rule, connecting. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { flow, getRunContext, unmapped } from "../../src/index.ts";
import { rootScope, runInScope } from "../../src/core/context.ts";
import { DaskFuture, DaskTaskRunner, UnresolvedFuturesError, getDaskClient, withDaskClient } from "../../src/dask/index.ts";
import { captureStderr, withLoggingLevel } from "../helpers.ts";
import { shout } from "./bag-tasks.ts";
import { double, flaky, nap } from "./client-tasks.ts";
import { descendants, fileCluster, waitFor } from "./fixtures.ts";

const cluster = fileCluster([{ nthreads: 2 }, { nthreads: 1 }]);

const bridges = () => descendants().filter((p) => /-m daskflow_bridge/.test(p.cmd)).map((p) => p.pid);

test("in a flow: tasks through the engine, Python callables, data, cancel, scheduler info, on the runner's bridge", async () => {
  const runner = new DaskTaskRunner({ address: cluster.address });
  const f = flow({ taskRunner: runner }, async () => {
    await using client = await getDaskClient();
    await using second = await getDaskClient(); // one bridge per run: a second client costs no process
    const pid = (getRunContext().taskRunner as DaskTaskRunner).bridgePid;
    assert.ok(pid !== undefined, "the runner's cluster was started on demand by getDaskClient()");
    assert.deepEqual(bridges(), [pid]);

    const retried = client.submit(flaky);
    const mapped = client.map(double, [1, 2, 3]);
    const added = client.submit<number>("operator.add", [40, 2]);
    const negated = client.map<number>("operator.neg", [1, 2]);
    const data = second.scatter([1, 2, 3, 4]);
    const summed = second.submit<number>("builtins.sum", [data]);
    const plain = client.submit((x: number) => x + 1, mapped[2]!); // a plain function, a task's future as argument
    const slow = client.submit("time.sleep", [30]);
    await client.cancel([slow]);
    const info = await client.schedulerInfo();
    return {
      retried: await retried.result(),
      retriedState: retried.state.type,
      mapped: await client.gather(mapped),
      plain: await plain,
      added: await added,
      negated: await client.gather(negated),
      data: await data,
      summed: await summed.result(),
      workers: await client.waitForWorkers(2),
      infoWorkers: Object.values(info.workers).map((w) => w.nthreads).sort(),
      address: client.schedulerAddress,
      dashboard: client.dashboardLink,
      bridges: bridges().length,
    };
  });
  // Retry and connect lines are INFO; `npm test` runs at WARNING.
  const { value, output } = await withLoggingLevel("INFO", () => captureStderr(() => f()));
  assert.deepEqual(value, {
    retried: 3,
    retriedState: "COMPLETED",
    mapped: [2, 4, 6],
    plain: 7,
    added: 42,
    negated: [-1, -2],
    data: [1, 2, 3, 4],
    summed: 10,
    workers: 2,
    infoWorkers: [1, 2],
    address: cluster.address,
    dashboard: value.dashboard,
    bridges: 1,
  });
  assert.match(String(value.dashboard), /^http:\/\/127\.0\.0\.1:\d+\/status$/);
  // Retries ran in the task engine on the worker, with their logs sent back live.
  assert.match(output, /flaky attempt 1/);
  assert.match(output, /flaky attempt 3/);
  assert.deepEqual(bridges(), [], "the flow's bridge is closed with the flow");
});

test("Python callables: bad paths are refused before anything runs; Python errors arrive by name", async () => {
  await withDaskClient(
    async (client) => {
      assert.throws(() => client.submit("not a path"), /a Python callable as an import path such as "operator\.add"/);
      assert.throws(() => client.submit("os.system; rm", []), /import path/);
      await assert.rejects(client.submit("no_such_module.fn").result(), /cannot import 'no_such_module\.fn'/);
      await assert.rejects(client.submit("operator.truediv", [1, 0]).result(), (e: Error) => e.name === "ZeroDivisionError");
      assert.throws(() => client.submit("builtins.len", [() => 1]), /args\[0\] is a function/);
    },
    { address: cluster.address },
  );
});

test("plain functions (Prefect's client.submit(func)): by source or by reference, futures among the arguments, map, errors by name", async () => {
  await withDaskClient(
    async (client) => {
      const one = client.submit((x: number) => x + 1, 41);
      assert.ok(one instanceof DaskFuture);
      const twice = client.submit(function twice(x: number) {
        return x * 2;
      }, one); // the future of another function's run, as an argument
      const withTask = client.submit((x: number, ys: number[]) => x + ys.length, client.submit(double, 5), [1, 2]);
      const mapped = client.map((x: number, k: number) => x * k, [1, 2, 3], unmapped(10));
      const chained = client.map((x: number) => -x, mapped); // futures among the items
      assert.deepEqual(
        {
          one: await one,
          twice: await twice.result(),
          withTask: await withTask,
          mapped: await client.gather(mapped),
          chained: await client.gather(chained),
          byReference: await client.submit(shout, "/a/b.txt"), // uses an import and a module variable: exported
          async: await client.submit(async () => 42),
        },
        { one: 42, twice: 84, withTask: 12, mapped: [10, 20, 30], chained: [-10, -20, -30], byReference: "B.TXT!", async: 42 },
      );
      assert.match(twice.key, /^twice-/);
      const { value: thrown } = await captureStderr(() =>
        client
          .submit(() => {
            throw new RangeError("inside");
          })
          .result()
          .catch((e: Error) => e),
      );
      assert.equal(thrown.name, "RangeError");
      assert.match(thrown.message, /inside/);
      const waiting = client.submit((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)), 2000);
      await waiting.cancel();
      await assert.rejects(waiting.result(), /cancelled/);
      // Refused where they are given, before anything runs:
      const offset = 3;
      assert.throws(
        () => client.submit((x: number) => x + offset, 1),
        /DaskClient\.submit\(\): the function refers to `offset`, from outside the function\..*client\.submit\(\(x, offset\) => \.\.\., x, offset\).*export the function from the top level of a module/s,
      );
      assert.throws(() => client.map(Math.sqrt, [1, 4]), /DaskClient\.map\(\): sqrt is a built-in or bound function/);
      assert.throws(() => client.submit("builtins.abs", [one]), /args\[0\] is the future of a TypeScript function's run/);
      const data = client.scatter(3);
      assert.throws(() => client.submit((x: number) => x, data), /is data held for Python calls; .*Pass `await future` instead/);
      await data;
    },
    { address: cluster.address },
  );
});

test("outside any run: a temporary local cluster, closed with the client", async () => {
  let address: string;
  {
    await using client = await getDaskClient();
    address = client.schedulerAddress;
    assert.match(address, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(bridges().length, 1);
    assert.deepEqual(await client.gather(client.map(double, [5, 6])), [10, 12]);
    assert.equal(await client.submit<number>("operator.mul", [6, 7]), 42);
  }
  assert.deepEqual(bridges(), [], "the client's bridge and cluster are gone when its scope ends");
  await assert.rejects(withDaskClient(async () => {}, { address, timeoutSeconds: 2 }), new RegExp(address.replaceAll(".", "\\.")));
});

test("in a flow with the default task runner: tasks on the client's own temporary cluster, futures among the items, values still being read as the scope ends", async () => {
  const f = flow(async () => {
    await using client = await getDaskClient({ timeoutSeconds: 60 });
    const one = client.submit(double, 21);
    const mapped = client.map(double, [1, 2, 3]);
    const chained = client.map(double, [one, mapped[0]!, 5]); // futures among the items: upstreams on the cluster
    const values = { one: await one.result(), mapped: await client.gather(mapped), chained: await client.gather(chained) };
    // Returned unawaited (`return Promise.all(...)`): the client's scope, and its cluster, end before these values
    // arrive; they must arrive all the same.
    const late = [...client.map(double, [10, 20, 30]).map((x) => x.result({ timeoutSeconds: 30 })), client.submit<number>("operator.add", [1, 2]).result()];
    return Promise.all(late).then((last) => ({ ...values, last }));
  });
  assert.deepEqual(await f(), { one: 42, mapped: [2, 4, 6], chained: [84, 4, 10], last: [20, 40, 60, 3] });
  assert.deepEqual(bridges(), [], "the client's bridge and cluster are gone with its scope");
});

test("a task run still open when its DaskTaskRunner shuts down ends Crashed, saying so: no wait is left hanging", async () => {
  const runner = new DaskTaskRunner({ address: cluster.address });
  const future = runInScope({ ...rootScope(), runner }, () => nap.submit(5000));
  await waitFor("the run to start", () => (future.state.type === "RUNNING" ? true : undefined));
  await runner.shutdown();
  const state = await future.wait(3);
  assert.equal(state.type, "CRASHED", `state ${state.type}`);
  assert.match(String(state.message), /nap-\w+.* DaskTaskRunner was shut down/);
  await assert.rejects(future.result({ timeoutSeconds: 1 }), /shut down/);
});

test("leaving the scope with unresolved futures is an error naming them, after their work finished", async () => {
  const f = flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const error = await (async () => {
      await using client = await getDaskClient();
      client.submit<number>("operator.mul", [6, 7]);
      client.submit(double, 21);
      await client.submit("operator.add", [1, 1]); // resolved: not named
    })().catch((e: unknown) => e);
    assert.ok(error instanceof UnresolvedFuturesError, String(error));
    assert.equal(error.unresolved.length, 2);
    assert.match(error.message, /2 unresolved future\(s\): submit\(operator\.mul\) \[mul-[\w-]+\], task run 'double-[\w-]+' \(Completed\(\)\)/);
    assert.match(error.message, /`await future\.result\(\)`, or `await future\.wait\(\)` for a task run's state/); // not "await each future": a TaskFuture is no promise
    // withDaskClient: the same error, and an error of the function itself keeps it as its cause.
    await assert.rejects(withDaskClient((client) => void client.submit("operator.neg", [1])), UnresolvedFuturesError);
    const thrown = await withDaskClient((client) => {
      client.submit("operator.neg", [1]);
      throw new RangeError("inside");
    }).catch((e: Error) => e);
    assert.equal(thrown.name, "RangeError");
    assert.ok(thrown.cause instanceof UnresolvedFuturesError);
    return "ok";
  });
  assert.equal(await f(), "ok");
});

test("connecting: an address nothing listens on is logged at once and fails within the timeout, naming it", async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  const address = `tcp://127.0.0.1:${port}`;
  const { value: error, output } = await withLoggingLevel("INFO", () =>
    captureStderr(() => getDaskClient({ address, timeoutSeconds: 2 }).catch((e: Error) => e)),
  );
  assert.ok(error instanceof Error);
  assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.match(output, new RegExp(`Connecting to an existing Dask cluster at ${address}`));
  // The same for a DaskTaskRunner with that address, through a client in its flow.
  const f = flow({ taskRunner: new DaskTaskRunner({ address }) }, async () => getDaskClient({ timeoutSeconds: 2 }).then(() => "connected", (e: Error) => e.message));
  const { value: message } = await captureStderr(() => f());
  assert.match(message, new RegExp(`${address}.* within 2 ?s`));
  assert.deepEqual(bridges(), []);
});
