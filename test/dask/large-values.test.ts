/**
 * Large values cross every hop unchanged (issue 10 item 8): a 50 MiB Uint8Array and 20 MiB strings, from a task to
 * the flow process and from a task on one worker to a task on the other (so Dask moves the bytes between workers,
 * and they enter the downstream sidecar as a dependency). Speed is measured in bench/large-values.ts, not here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readlinkSync } from "node:fs";
import { flow, getRunContext } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { fileCluster } from "./fixtures.ts";
import { on, onTwoWorkers as twoWorkers } from "./two-workers.ts";
import { bigBytes, bigString, digest, mixed, seeBytes, seeString, seededBytes, seededString } from "./large-tasks.ts";

const cluster = fileCluster([{ nthreads: 1 }, { nthreads: 1 }]);

const onTwoWorkers = <T>(body: (first: string, second: string) => Promise<T>) => twoWorkers(cluster.address, body);

test("a 50 MiB Uint8Array reaches the flow process and a task on another worker unchanged", async () => {
  const expected = digest(seededBytes(50, 7));
  const { value, seen } = await onTwoWorkers(async (first, second) => {
    const upstream = on(first, () => bigBytes.submit(50, 7));
    const seen = await on(second, () => seeBytes.submit(upstream)).result();
    return { value: await upstream.result(), seen };
  });
  assert.ok(value instanceof Uint8Array, "a Uint8Array stays a Uint8Array");
  assert.equal(value.constructor, Uint8Array);
  assert.equal(value.byteLength, 50 * 2 ** 20);
  assert.equal(digest(value), expected, "the flow process got the very bytes");
  assert.deepEqual(seen, { type: "Uint8Array", length: 50 * 2 ** 20, sha256: expected }, "so did the downstream task");
});

for (const latin1 of [false, true]) {
  test(`a 20 MiB string (${latin1 ? "Latin-1: one byte per character" : "not Latin-1"}) reaches the flow process and a task on another worker unchanged, and goes from the flow to a task`, async () => {
    const expected = seededString(20, 3, latin1);
    const { value, seen, sent } = await onTwoWorkers(async (first, second) => {
      const upstream = on(first, () => bigString.submit(20, 3, latin1));
      const seen = await on(second, () => seeString.submit(upstream)).result();
      return { value: await upstream.result(), seen, sent: await seeString.submit(expected).result() };
    });
    assert.equal(typeof value, "string");
    assert.equal(value.length, expected.length);
    assert.ok(value === expected, "the flow process got the very string");
    const seenExpected = { type: "string", length: expected.length, sha256: digest(expected) };
    assert.deepEqual(seen, seenExpected, "so did the downstream task");
    assert.deepEqual(sent, seenExpected, "and a task the flow passed it to");
  });
}

test("a large Buffer stays a Buffer, and the small values next to it keep their places", async () => {
  const value = await onTwoWorkers(async (first) => on(first, () => mixed.submit(2, 11)).result());
  assert.ok(Buffer.isBuffer(value.buffer), "a Buffer stays a Buffer");
  assert.equal(digest(value.buffer), digest(seededBytes(2, 11)));
  assert.deepEqual({ ...value, buffer: undefined }, { before: [1, "two", null], buffer: undefined, after: { ok: true } });
});

/** The bridge's memfds of values not yet read by the flow process (python/daskflow_bridge/transfer/sender_files.py). */
function bridgeValueFiles(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return ""; // closed while listing
      }
    })
    .filter((link) => link.startsWith("/memfd:daskflow-value") || link.startsWith("/memfd:daskflow-probe"));
}

test("large values several at a time reach the flow from the bridge (its memory, or value files), no value file left once read", { skip: process.platform !== "linux" && "value files are Linux-only" }, async () => {
  const { values, held } = await flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const runner = getRunContext().taskRunner as DaskTaskRunner;
    const futures = [3, 4, 5].map((seed) => bigBytes.submit(4, seed));
    const values = await Promise.all(futures.map((f) => f.result())); // three gathers in flight at once
    // The release is a message to the bridge: give it a moment to arrive.
    let held = bridgeValueFiles(runner.bridgePid!);
    for (let i = 0; i < 40 && held.length; i++) held = (await new Promise((r) => setTimeout(r, 50)), bridgeValueFiles(runner.bridgePid!));
    return { values, held };
  })();
  values.forEach((v, i) => assert.equal(digest(v), digest(seededBytes(4, 3 + i))));
  assert.deepEqual(held, [], "the bridge holds no value file after the flow process read them");
});
