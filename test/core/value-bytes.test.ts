/** Large typed arrays travel as parts of their own (src/core/value-bytes.ts): same values back, no copy on decode. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeValue, encodeValue, encodeValueParts } from "../../src/core/serialization.ts";
import { OUT_OF_BAND, ValueParts } from "../../src/core/value-bytes.ts";
import { FrameDecoder, encodeFrameParts } from "../../src/dask/framing.ts";

const big = OUT_OF_BAND; // bytes: the smallest size that goes out of band

function filled<T extends { length: number; [i: number]: number | bigint }>(view: T, at: (i: number) => number | bigint): T {
  for (let i = 0; i < view.length; i++) (view as Record<number, unknown>)[i] = at(i);
  return view;
}

test("every typed-array kind, large and small, nested in Maps and objects, keeps its type and contents", () => {
  const value = {
    u8: filled(new Uint8Array(big + 3), (i) => i % 251),
    f64: filled(new Float64Array(big / 8), (i) => i / 3),
    i16: filled(new Int16Array(big / 2 + 1), (i) => (i % 300) - 150),
    big64: filled(new BigInt64Array(big / 8), (i) => BigInt(i) * -3n),
    clamped: new Uint8ClampedArray(big).fill(255),
    view: new DataView(new ArrayBuffer(big + 8), 8),
    buffer: Buffer.alloc(big, 7),
    small: new Float32Array([1.5, 2.5]),
    smallBuffer: Buffer.from("hi"),
    nested: new Map([["inside", [new Uint32Array(big / 4).fill(9)]]]),
    text: "ä".repeat(10),
  };
  value.view.setFloat64(0, 42.5);
  const bytes = encodeValueParts(value, "value");
  assert.ok(bytes instanceof ValueParts, "a value with large typed arrays is written in parts");
  // The large arrays are parts as they are in memory: the very same memory, not copies.
  assert.ok(bytes.parts.some((p) => p.buffer === value.u8.buffer && p.byteLength === value.u8.byteLength));
  const joined = bytes.concat();
  assert.equal(joined.byteLength, bytes.byteLength);
  const out = decodeValue(joined) as typeof value;
  assert.deepEqual(out, value);
  assert.ok(out.buffer instanceof Buffer && out.smallBuffer instanceof Buffer && out.view instanceof DataView);
  assert.equal(out.view.getFloat64(0), 42.5);
  // Decoding gives views into the received bytes (aligned: the parts sit at 8-aligned offsets).
  assert.equal(out.u8.buffer, joined.buffer);
  assert.equal(out.f64.buffer, joined.buffer);
});

test("values without large typed arrays are V8's bytes exactly; both kinds decode", () => {
  const small = { a: new Uint8Array(10), b: [1, "x"] };
  const bytes = encodeValueParts(small, "value");
  assert.ok(bytes instanceof Buffer && bytes[0] === 0xff);
  assert.deepEqual(decodeValue(bytes), small);
  const large = new Uint8Array(big).fill(1);
  assert.deepEqual(decodeValue(encodeValue(large, "value")), large);
});

test("a misaligned copy still decodes (a Float64Array whose bytes arrive at an odd offset)", () => {
  const value = filled(new Float64Array(big / 8), (i) => i * 1.25);
  const joined = (encodeValueParts(value, "value") as ValueParts).concat();
  const shifted = Buffer.alloc(joined.byteLength + 1);
  joined.copy(shifted, 1);
  assert.deepEqual(decodeValue(shifted.subarray(1)), value);
});

test("a frame carries a value in parts as one binary, written without joining them", () => {
  const value = { data: new Uint8Array(big * 2).fill(3) };
  const bytes = encodeValueParts(value, "value");
  const frame = encodeFrameParts({ op: "done", envelope: bytes });
  assert.ok(frame.some((p) => p.buffer === value.data.buffer), "the array's own memory is one of the frame's parts");
  const decoder = new FrameDecoder<{ op: string; envelope: Uint8Array }>();
  const [message] = decoder.push(Buffer.concat(frame));
  assert.deepEqual(decodeValue(message!.envelope), value);
});
