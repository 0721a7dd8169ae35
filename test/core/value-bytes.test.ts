/** Large typed arrays travel as parts of their own (src/transfer/value-bytes.ts): same values back, no copy on decode. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeEnvelope, decodeValue, encodeResult, encodeValue, encodeValueParts, stateToRecord } from "../../src/core/serialization.ts";
import { Completed } from "../../src/core/state.ts";
import { OUT_OF_BAND, OUT_OF_BAND_TEXT, TextPart, ValueParts, joinSplit, splitAt, v8Region } from "../../src/transfer/value-bytes.ts";
import { FrameDecoder, SideFile, encodeFrameParts } from "../../src/transfer/framing.ts";

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
  assert.ok(bytes.parts.some((p) => p instanceof Uint8Array && p.buffer === value.u8.buffer && p.byteLength === value.u8.byteLength));
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

/** A string of `n` characters where every position's character depends on it (so a misplaced chunk shows). */
function text(n: number, alphabet: string): string {
  const block = Array.from({ length: 4096 }, (_, i) => alphabet[(i * 7 + (i >> 5)) % alphabet.length]).join("");
  return block.repeat(Math.ceil(n / 4096)).slice(0, n);
}

test("a large string a task returns is a part of its own (not in V8's bytes), one byte per character when it can be, and arrives unchanged", () => {
  const cases = {
    ascii: text(OUT_OF_BAND_TEXT + 5, "abcdefgh"),
    latin1: text(3 * OUT_OF_BAND_TEXT, "aé\u00ffz"), // one byte each, though not ASCII
    twoByte: text(2 * OUT_OF_BAND_TEXT + 3, "a€\ud83d\ude00z"), // surrogates paired and alone, also across the chunks it is written in
    lone: "\ud800".repeat(OUT_OF_BAND_TEXT) + "x", // lone surrogates are code units like any other
  };
  for (const [name, value] of Object.entries(cases)) {
    const { envelope } = encodeResult(Completed(value));
    assert.ok(envelope instanceof ValueParts, `${name}: written in parts`);
    const part = envelope.parts.find((p) => p instanceof TextPart);
    assert.ok(part instanceof TextPart && part.text === value, `${name}: the string itself is the part`);
    assert.equal(part.byteLength, value.length * (name === "ascii" || name === "latin1" ? 1 : 2), `${name}: bytes per character`);
    assert.ok(v8Region(envelope.concat()).byteLength < 1000, `${name}: V8's bytes hold the envelope, not the string`);
    // Written in chunks into a file, as a sidecar writes a result into its reply side file.
    const dir = mkdtempSync(join(tmpdir(), "daskflow-text-"));
    const fd = openSync(join(dir, "side"), "w+");
    try {
      const side = new SideFile(fd);
      const frame = Buffer.concat(encodeFrameParts({ op: "done", envelope }, side));
      assert.ok(frame.byteLength < 200, `${name}: the frame only refers to the value`);
      const [got] = new FrameDecoder<{ envelope: Uint8Array }>({ side }).push(frame);
      const back = decodeEnvelope(got!.envelope);
      assert.equal(back.data, value, `${name}: through the side file`);
      assert.equal(back.state.type, "COMPLETED");
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true });
    }
    assert.equal(decodeEnvelope(envelope.concat()).data, value, `${name}: joined`);
  }
});

test("large strings inside plain objects and arrays, at any depth, are parts too; the caller's value is unchanged, cycles and holes kept", () => {
  const long = text(OUT_OF_BAND_TEXT, "xyz");
  const other = text(OUT_OF_BAND_TEXT + 1, "é€");
  const textParts = (bytes: unknown) => (bytes instanceof ValueParts ? bytes.parts.filter((p) => p instanceof TextPart).length : 0);
  const result = { text: long, list: [long], n: 1 } as { text: string; list: string[]; n: number; self?: unknown };
  result.self = result;
  const { envelope } = encodeResult(Completed(result));
  assert.equal(textParts(envelope), 2, "both strings are lifted out, the one inside the list too");
  assert.ok(result.text === long && result.list[0] === long, "the caller's objects hold their strings again");
  const back = decodeEnvelope((envelope as ValueParts).concat()).data as typeof result;
  assert.ok(back.text === long && back.list.length === 1 && back.list[0] === long, "both strings arrive");
  assert.equal(back.self, back, "the cycle is kept (the object itself was written, not a copy)");

  const holes = [, other, 3];
  const fromArray = encodeResult(Completed(holes)).envelope;
  assert.equal(textParts(fromArray), 1);
  const array = decodeEnvelope((fromArray as ValueParts).concat()).data as unknown[];
  assert.ok(array.length === 3 && array[1] === other && array[2] === 3);
  assert.ok(!(0 in array), "a hole stays a hole");

  // Places that cannot be changed unseen are left to V8: a frozen object, an accessor. (A Proxy cannot be sent at all.)
  const frozen = Object.freeze({ text: long });
  const accessor = Object.defineProperty({}, "text", { get: () => long, enumerable: true });
  for (const value of [frozen, accessor]) {
    const bytes = encodeResult(Completed(value)).envelope;
    assert.equal(textParts(bytes), 0);
    const out = decodeEnvelope(bytes instanceof ValueParts ? bytes.concat() : bytes).data as { text: string };
    assert.ok(out.text === long, "and it arrives all the same");
  }

  // A batch's items, and a value also holding a large typed array (its part comes first).
  const bytes = new Uint8Array(OUT_OF_BAND).fill(3);
  const items = [{ state: stateToRecord(Completed(long)), data: long }, { state: stateToRecord(Completed(bytes)), data: [bytes, long] }];
  const batch = { items };
  const parts = encodeValueParts(batch, "batch");
  assert.equal(textParts(parts), 2);
  assert.equal(items[0]!.data, long, "the envelope holds its string again");
  const decoded = decodeValue((parts as ValueParts).concat()) as typeof batch;
  assert.ok(decoded.items[0]!.data === long);
  assert.deepEqual(decoded.items[1]!.data[0], bytes);
  assert.ok(decoded.items[1]!.data[1] === long);
});

test("a value whose parts are all strings can be read in two pieces, its parts in memory of the reader's choosing", () => {
  const value = { a: "x".repeat(OUT_OF_BAND_TEXT), b: ["é→".repeat(OUT_OF_BAND_TEXT / 2)], n: 5 };
  const joined = (encodeValueParts(value, "value") as ValueParts).concat();
  const at = splitAt(joined.subarray(0, 12), joined.byteLength);
  assert.ok(at !== undefined && at > 12 && at < 64 * 1024, "the split falls after the head and V8's bytes, before the parts");
  const scratch = Buffer.alloc(joined.byteLength - at + 10, 0xee); // larger than needed: reused memory often is
  scratch.set(joined.subarray(at));
  const before = Buffer.from(joined.subarray(0, at));
  assert.deepEqual(decodeValue(joinSplit(before, scratch.subarray(0, joined.byteLength - at))), value);
  assert.throws(() => decodeValue(joinSplit(Buffer.from(before), scratch.subarray(0, 100))), /end before a part/, "parts cut short are an error, not a short string");
  // Typed arrays decode as views of the bytes, so a value holding one is never split; nor is a value without parts.
  const withArray = (encodeValueParts({ s: "y".repeat(OUT_OF_BAND_TEXT), u8: new Uint8Array(OUT_OF_BAND) }, "value") as ValueParts).concat();
  assert.equal(splitAt(withArray.subarray(0, 12), withArray.byteLength), undefined);
  const plain = encodeValue({ small: "text" }, "value");
  assert.equal(splitAt(plain.subarray(0, 12), plain.byteLength), undefined);
});
