/** Values keep their types across processes (issue 10 item 7), on a real cluster. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { flow, SerializationError, StateType } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { Path, Point, Registry, ValidationError, echoValue, inspectValues, returnsLocalClass } from "./fixtures/values.ts";
import { fileCluster } from "./fixtures.ts";

const cluster = fileCluster([{ nthreads: 1 }]);

const onCluster = () => new DaskTaskRunner({ address: cluster.address });

test("instances of exported classes reach the worker and come back as instances, with dates, BigInt, typed arrays, Sets and cycles", async () => {
  const path = new Path().add(new Point(1, 1)).add(new Point(2, 2));
  const registry = new Registry([["b", new Point(0, 1)], ["a", new Point(1, 0)]]);
  const f = flow({ taskRunner: onCluster() }, async () => {
    const seen = await inspectValues.submit(new Point(3, 4), path, registry, new ValidationError("bad", "email")).result();
    const back = await echoValue.submit({ path, registry }).result();
    return { seen, back: back as { path: Path; registry: Registry } };
  });
  const { seen, back } = await f();
  assert.deepEqual(
    { ...seen, made: undefined, extras: undefined },
    { pointIsPoint: true, norm: 5, pathLength: 2, circular: true, registry: ["a", "b"], error: "ValidationError:email", made: undefined, extras: undefined },
  );
  assert.ok(seen.made instanceof Point, "an instance made on the worker arrives as a Point");
  assert.equal(seen.made.norm(), 10);
  assert.deepEqual(seen.extras, { when: new Date(0), big: 2n ** 70n, bytes: new Float64Array([1.5]), set: new Set([1, 2]) });
  assert.ok(back.path instanceof Path && back.path.owner === back.path && back.path.points[1] instanceof Point);
  assert.ok(back.registry instanceof Registry);
  assert.deepEqual(back.registry.names(), ["a", "b"]);
});

test("an instance of a class that is not exported at a module's top level is an error at submit naming the class and the path", async () => {
  class Local {
    value = 1;
  }
  const f = flow({ taskRunner: onCluster() }, async () => echoValue.submit({ items: [1, new Local()] }).result());
  await assert.rejects(f(), (e: Error) => {
    const cause = e.cause as Error;
    assert.ok(cause instanceof SerializationError, `got ${cause?.name}: ${cause?.message}`);
    assert.match(cause.message, /arguments\[0\]\.items\[1\] is an instance of class Local .*not defined at the top level of its module/);
    return true;
  });
});

test("a result holding an instance of a class the flow process cannot re-create fails the task, naming the class and the path", async () => {
  const f = flow({ taskRunner: onCluster() }, async () => {
    const s = await returnsLocalClass.submit().wait();
    return () => s;
  });
  const state = (await f())();
  assert.equal(state.type, StateType.FAILED);
  assert.ok(state.error instanceof SerializationError, `got ${state.error?.name}`);
  assert.match(state.error?.message ?? "", /result\.nested\[0\] is an instance of class Hidden/);
});
