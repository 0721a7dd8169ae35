/**
 * Frames of the bridge and sidecar channels (src/transfer/framing.ts): a large frame fed in many small chunks, many
 * frames in one chunk, large binaries written by reference and through a side file, nothing kept afterwards.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Encoder } from "@msgpack/msgpack";
import { FrameDecoder, SideFile, encodeFrame, encodeFrameParts } from "../../src/transfer/framing.ts";

const reference = new Encoder({ ignoreUndefined: true });
const concat = (parts: Uint8Array[]) => Buffer.concat(parts);

function pattern(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

test("a 24 MiB frame fed in 64 KiB chunks decodes to the same bytes, and nothing is kept after it", () => {
  const envelope = pattern(24 * 2 ** 20, 5);
  const frame = encodeFrame({ op: "done", envelope, event: { kind: "state", note: undefined } });
  const decoder = new FrameDecoder<{ op: string; envelope: Uint8Array; event: Record<string, unknown> }>();
  const out = [];
  for (let at = 0; at < frame.byteLength; at += 65536) {
    out.push(...decoder.push(frame.subarray(at, at + 65536)));
    if (at + 65536 < frame.byteLength) assert.equal(out.length, 0, "no message before its last byte");
  }
  assert.equal(out.length, 1);
  assert.equal(out[0]!.op, "done");
  assert.ok(Buffer.from(out[0]!.envelope).equals(envelope));
  assert.deepEqual(out[0]!.event, { kind: "state" }, "undefined map values are left out, as the Encoder does");
  assert.equal(decoder.pending, 0);
});

test("many frames in one chunk, and frames split anywhere (also inside the length), decode in order", () => {
  const messages = Array.from({ length: 500 }, (_, i) => ({ op: "event", i, data: i % 50 === 0 ? pattern(70_000 + i, i) : `small ${i}` }));
  const stream = concat(messages.map((m) => encodeFrame(m)));
  const whole = new FrameDecoder<(typeof messages)[number]>().push(stream);
  assert.equal(whole.length, 500);
  for (const [i, m] of whole.entries()) {
    assert.equal(m.i, i);
    const sent = messages[i]!.data;
    if (typeof sent === "string") assert.equal(m.data, sent);
    else assert.ok(Buffer.from(m.data as Uint8Array).equals(sent), `frame ${i}'s bytes`);
  }
  for (const size of [1, 3, 4097]) {
    const decoder = new FrameDecoder<(typeof messages)[number]>();
    const got = [];
    for (let at = 0; at < stream.byteLength; at += size) got.push(...decoder.push(stream.subarray(at, at + size)));
    assert.deepEqual(got.map((m) => m.i), messages.map((m) => m.i), `chunks of ${size} bytes`);
    assert.equal(decoder.pending, 0);
  }
});

test("large binaries are parts of their own (not copied), and the frame is exactly the Encoder's", () => {
  const big = pattern(200_000, 1);
  const message = { op: "run", spec: pattern(10, 2), deps: [big, pattern(100, 3), big.subarray(5)], meta: { name: "t", skip: undefined } };
  const parts = encodeFrameParts(message);
  assert.ok(parts.some((p) => p.buffer === big.buffer && p.byteLength === big.byteLength), "the big value is written from its own buffer");
  const body = reference.encode(message);
  const expected = Buffer.concat([Buffer.from([0, 0, 0, 0]), body]);
  expected.writeUInt32BE(body.byteLength, 0);
  assert.ok(concat(parts).equals(expected));
});

test("through a side file, large values skip the frame, arrive unchanged, and the file is emptied after", () => {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-framing-"));
  const fd = openSync(join(dir, "side"), "w+");
  try {
    const side = new SideFile(fd);
    const a = pattern(3 * 2 ** 20, 7);
    const b = pattern(2 ** 20 + 1, 8);
    const frame = concat(encodeFrameParts({ op: "run", deps: [a, b], args: pattern(1000, 9) }, side));
    assert.ok(frame.byteLength < 2000, "the frame only refers to the large values");
    assert.equal(fstatSync(fd).size, a.byteLength + b.byteLength);
    const [got] = new FrameDecoder<{ deps: Uint8Array[]; args: Uint8Array }>({ side }).push(frame);
    assert.ok(Buffer.from(got!.deps[0]!).equals(a) && Buffer.from(got!.deps[1]!).equals(b));
    assert.ok(Buffer.from(got!.args).equals(pattern(1000, 9)));
    assert.equal(fstatSync(fd).size, 0, "the reader frees the side file's memory");
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true });
  }
});

test("a reply side file in keep mode never writes over a value: each goes after the last, 64 KiB aligned", () => {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-framing-"));
  const fd = openSync(join(dir, "side"), "w+");
  try {
    const side = new SideFile(fd, true);
    const refs = (frame: Buffer) => {
      const out: { type: number; offset: number; length: number }[] = [];
      for (let i = frame.indexOf(0xd8); i >= 0 && i + 18 <= frame.byteLength; i = frame.indexOf(0xd8, i + 18)) {
        out.push({ type: frame[i + 1]!, offset: Number(frame.readBigUInt64BE(i + 2)), length: Number(frame.readBigUInt64BE(i + 10)) });
      }
      return out;
    };
    const a = pattern(2 ** 20 + 3, 1);
    const b = pattern(2 ** 20, 2);
    const kept = refs(concat(encodeFrameParts({ op: "done", envelope: a }, side.toKeep(true))));
    const copied = refs(concat(encodeFrameParts({ op: "bridge", message: { data: b } }, side.toKeep(false))));
    assert.deepEqual(kept, [{ type: 4, offset: 0, length: a.byteLength }], "a result's value: to keep (ext type 4)");
    assert.deepEqual(copied, [{ type: 1, offset: 17 * 64 * 1024, length: b.byteLength }], "the next frame's value goes after it, aligned");
    assert.equal(fstatSync(fd).size, 17 * 64 * 1024 + b.byteLength);
    assert.equal(side.moved, a.byteLength + b.byteLength, "what it wrote is counted (for src/transfer/release-memory.ts)");
    side.offer([[64 * 64 * 1024, 4 * 2 ** 20], [32 * 64 * 1024, 2 ** 20 + 64 * 1024], [0, 2 ** 20 - 1]]);
    const reused = refs(concat(encodeFrameParts({ op: "done", envelope: a, more: b }, side.toKeep(true))));
    assert.deepEqual(reused, [
      { type: 4, offset: 32 * 64 * 1024, length: a.byteLength },
      { type: 4, offset: 64 * 64 * 1024, length: b.byteLength },
    ], "offered ranges are written into, the smallest that fits first; one too small is left");
    side.offer(undefined);
    assert.equal(refs(concat(encodeFrameParts({ op: "done", envelope: b }, side.toKeep(true))))[0]!.offset, 33 * 64 * 1024, "none offered: after the last appended value");
    const plain = new SideFile(fd);
    assert.deepEqual(refs(concat(encodeFrameParts({ op: "done", envelope: b }, plain.toKeep(true)))), [{ type: 1, offset: 0, length: b.byteLength }], "without keep mode: from offset 0, never to keep");
    assert.deepEqual(SideFile.fromEnv("5,6,keep")?.replies.keep, true);
    assert.deepEqual(SideFile.fromEnv("5,6")?.replies.keep, false);
    assert.equal(SideFile.fromEnv("5,6,other"), undefined, "an unknown mode is not guessed at");
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true });
  }
});
