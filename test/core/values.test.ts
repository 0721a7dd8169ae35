import { test } from "node:test";
import assert from "node:assert/strict";
import { SerializationError } from "../../src/index.ts";
import { decodeValueAsync, encodeValue } from "../../src/core/serialization.ts";
import { Path, Point, Registry, ValidationError } from "../dask/fixtures/values.ts";

const roundTrip = async (value: unknown) => decodeValueAsync(encodeValue(value, "value"));

test("the codec keeps instances of exported classes, Map subclasses, Error subclasses and cycles", async () => {
  const path = new Path().add(new Point(3, 4));
  const out = (await roundTrip({ path, registry: new Registry([["p", new Point(1, 0)]]), error: new ValidationError("bad", "email") })) as {
    path: Path;
    registry: Registry;
    error: ValidationError;
  };
  assert.ok(out.path instanceof Path && out.path.owner === out.path);
  assert.equal(out.path.points[0]!.norm(), 5);
  assert.ok(out.registry instanceof Registry && out.registry.get("p") instanceof Point);
  assert.ok(out.error instanceof ValidationError);
  assert.deepEqual([out.error.name, out.error.field, out.error.message], ["ValidationError", "email", "bad"]);
});

test("plain data crosses unchanged: Dates, BigInt, Maps, Sets, typed arrays, Buffers, Errors, cycles", async () => {
  const cyclic: Record<string, unknown> = { n: 1 };
  cyclic.self = cyclic;
  const value = { when: new Date(5), big: 10n, map: new Map([[1, "a"]]), set: new Set(["x"]), f32: new Float32Array([2]), buf: Buffer.from("hi"), err: new TypeError("t"), cyclic };
  const out = (await roundTrip(value)) as typeof value;
  assert.deepEqual({ ...out, cyclic: undefined, err: undefined }, { ...value, cyclic: undefined, err: undefined });
  assert.ok(out.buf instanceof Buffer && out.err instanceof TypeError && out.err.message === "t");
  assert.equal(out.cyclic.self, out.cyclic);
});

test("an instance of a class that is not at a module's top level is an error naming the class and the path", () => {
  const make = () => new (class Inner {
    a = 1;
  })();
  assert.throws(() => encodeValue({ list: [0, { deep: make() }] }, "value"), (e: Error) => {
    assert.ok(e instanceof SerializationError);
    assert.match(e.message, /\$\.list\[1\]\.deep is an instance of class Inner .*not defined at the top level of its module/);
    return true;
  });
});
