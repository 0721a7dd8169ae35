/**
 * A worker hands its sidecar large task inputs in place (python/daskflow_bridge/transfer/worker_memory.py): a real Python
 * process encodes a frame whose values are references into its own memory, and this process, like a sidecar,
 * decodes it by reading that memory. What it reads must be the very bytes, and a token that does not match must
 * leave the channel to its side file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { join } from "node:path";
import { FrameDecoder } from "../../src/transfer/framing.ts";
import { openProcessMemory } from "../../src/transfer/process-memory.ts";
import { ScratchMemory } from "../../src/transfer/scratch-memory.ts";
import { decodeValue, encodeValueParts } from "../../src/core/serialization.ts";
import type { ValueParts } from "../../src/transfer/value-bytes.ts";
import { collectGarbage } from "../../src/transfer/collect-garbage.ts";
import { VENV_BIN } from "../dask/fixtures.ts";

const linux = process.platform === "linux";

// Prints the memory env line, the sha256 of each value, then one frame in hex; holds the values until stdin closes.
const WORKER = `
import hashlib, os, sys
from daskflow_bridge.transfer.framing import SideFile, encode_parts
from daskflow_bridge.transfer.large_value import LargeValue
from daskflow_bridge.transfer.worker_memory import WorkerMemory
side = SideFile(SideFile.create("test-requests"))
memory = WorkerMemory(side)
a = os.urandom(3 << 20)
b = LargeValue(bytearray(os.urandom((1 << 20) + 5)))
msg = {"op": "run", "deps": [a, b, b"small"], "attempt": 0}
memory.begin()
frame = b"".join(bytes(p) for p in encode_parts(msg, memory))
assert os.fstat(side.fd).st_size == 0, "in place: nothing went to the side file"
print(memory.env_value)
print(hashlib.sha256(a).hexdigest(), hashlib.sha256(b.view).hexdigest())
print(frame.hex(), flush=True)
sys.stdin.read()
`;

test("values referred to in the worker's memory are read unchanged, and a wrong token reads nothing", { skip: !linux && "Linux only" }, async () => {
  const child = spawn(join(VENV_BIN, "python"), ["-c", WORKER], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    while (out.split("\n").length < 4) await once(child.stdout, "data");
    const [env, hashes, hex] = out.split("\n");
    const read = openProcessMemory(env, "The worker's memory")?.read;
    assert.ok(read, "this process may read its child's memory");
    const [message] = new FrameDecoder<{ deps: Uint8Array[] }>({ memory: read }).push(Buffer.from(hex!, "hex"));
    const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    assert.deepEqual(message!.deps.map((d) => d.byteLength), [3 << 20, (1 << 20) + 5, 5]);
    assert.equal(`${sha(message!.deps[0]!)} ${sha(message!.deps[1]!)}`, hashes);
    assert.equal(Buffer.from(message!.deps[2]!).toString(), "small");
    const [pid, address, token] = env!.split(":");
    const wrong = token!.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    assert.equal(openProcessMemory(`${pid}:${address}:${wrong}`, "The worker's memory"), undefined, "a token that does not match");
    assert.equal(openProcessMemory(`${pid}:${address}`, "The worker's memory"), undefined, "a malformed value");
  } finally {
    child.stdin.end();
    if (child.exitCode === null) await once(child, "exit");
  }
});

// Holds the two values read from stdin (hex lines) in its memory and prints the memory env line, then a frame that
// refers to both; holds them until stdin closes.
const HOLDER = `
import sys
from daskflow_bridge.transfer.framing import SideFile, encode_parts
from daskflow_bridge.transfer.large_value import LargeValue
from daskflow_bridge.transfer.worker_memory import WorkerMemory
values = [LargeValue(bytearray(bytes.fromhex(sys.stdin.readline()))) for _ in range(2)]
memory = WorkerMemory(SideFile(SideFile.create("test-requests")))
memory.begin()
frame = b"".join(bytes(p) for p in encode_parts({"op": "run", "deps": values}, memory))
print(memory.env_value)
print(frame.hex(), flush=True)
sys.stdin.read()
`;

test("a value of strings read from the worker's memory goes through reused memory, never while an earlier read still holds it", { skip: !linux && "Linux only" }, async () => {
  // ~8.8 MiB and 2.3 MiB of parts each; the same sizes, so the second would fit where the first was read
  const values = ["first", "other"].map((word) => ({ text: `${word} é `.repeat(800_000), more: [`→ ${word} ✓ `.repeat(300_000)] }));
  const bytes = values.map((value) => (encodeValueParts(value, "value") as ValueParts).concat());
  const child = spawn(join(VENV_BIN, "python"), ["-c", HOLDER], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    child.stdin.write(bytes.map((b) => `${b.toString("hex")}\n`).join(""));
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    while (out.split("\n").length < 3) await once(child.stdout, "data");
    const [env, hex] = out.split("\n");
    let lent = 0;
    const scratch = new (class extends ScratchMemory {
      override take(length: number, owner: object) {
        const memory = super.take(length, owner);
        if (memory) lent++;
        return memory;
      }
    })();
    const reader = openProcessMemory(env, "The worker's memory", undefined, scratch);
    assert.ok(reader, "this process may read its child's memory");
    const decode = () => new FrameDecoder<{ deps: Uint8Array[] }>({ memory: reader.read }).push(Buffer.from(hex!, "hex"))[0]!.deps.map(decodeValue);
    assert.deepEqual(decode(), values, "both decode: the second read took fresh memory, the first still held the reused");
    assert.equal(lent, 1, "the reused memory was lent once: to the first of the two reads");
    assert.equal(reader.moved, bytes[0]!.byteLength + bytes[1]!.byteLength, "the reader counts every byte it read");
    assert.equal(scratch.free, false, "until the first read's bytes are collected, the memory stays theirs");
    await collectUntil(() => scratch.free); // the first read's bytes are garbage now
    lent = 0;
    assert.deepEqual(decode(), values, "read again, through the same memory");
    assert.equal(lent, 1);
  } finally {
    child.stdin.end();
    if (child.exitCode === null) await once(child, "exit");
  }
});

/** Collects garbage until `done`, each time on a turn of its own: finalizers (which free the scratch memory) run on
 * a turn after the collection. */
async function collectUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    if (done()) return;
  }
  assert.fail("the memory never became free to lend again");
}
