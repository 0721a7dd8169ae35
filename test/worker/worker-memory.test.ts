/**
 * A worker hands its sidecar large task inputs in place (python/daskflow_bridge/worker_memory.py): a real Python
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
import { FrameDecoder } from "../../src/dask/framing.ts";
import { openProcessMemory } from "../../src/dask/process-memory.ts";
import { VENV_BIN } from "../dask/fixtures.ts";

const linux = process.platform === "linux";

// Prints the memory env line, the sha256 of each value, then one frame in hex; holds the values until stdin closes.
const WORKER = `
import hashlib, os, sys
from daskflow_bridge.framing import SideFile, encode_parts
from daskflow_bridge.large_value import LargeValue
from daskflow_bridge.worker_memory import WorkerMemory
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
