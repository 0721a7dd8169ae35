/**
 * A sidecar keeps none of a finished task's large values (src/transfer/release-memory.ts): when its next task starts,
 * the memory of the last one's 96 MiB result, or of its 96 MiB input, is no longer in use. Before, a result stayed
 * in the sidecar until the end of its next task: memory Dask does not see, held for nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileCluster } from "./fixtures.ts";
import { on, onTwoWorkers as twoWorkers } from "./two-workers.ts";
import { bigBytes } from "./large-tasks.ts";
import { consume, largeBytes, largeString, sidecarMemory, sweepAfterCollection, type SidecarMemory } from "./sidecar-memory-tasks.ts";

const cluster = fileCluster([{ nthreads: 1 }, { nthreads: 1 }]);
const MIB = 2 ** 20;
const onTwoWorkers = <T>(body: (first: string, second: string) => Promise<T>) => twoWorkers(cluster.address, body);

function assertReleased(memory: SidecarMemory, pid: number, what: string): void {
  assert.equal(memory.pid, pid, "the next task ran on the sidecar that held the value");
  const inUse = memory.arrayBuffers + memory.heapUsed;
  assert.ok(inUse < 48 * MIB, `the sidecar still uses ${(inUse / MIB).toFixed(1)} MiB (array buffers ${(memory.arrayBuffers / MIB).toFixed(1)}, heap ${(memory.heapUsed / MIB).toFixed(1)}) after ${what}`);
}

for (const [kind, make] of [["Uint8Array", largeBytes], ["string", largeString]] as const) {
  test(`a sidecar has let go of a 96 MiB ${kind} result when its next task starts`, async () => {
    const { made, memory } = await onTwoWorkers(async (first) => {
      const made = await on(first, () => make.submit(96)).result();
      assert.equal(made.value.length, 96 * MIB);
      return { made: made.pid, memory: await on(first, () => sidecarMemory.submit()).result() };
    });
    assertReleased(memory, made, `a task that returned a 96 MiB ${kind}`);
  });
}

test("a sidecar has let go of a 96 MiB input when its next task starts", async () => {
  const { used, memory } = await onTwoWorkers(async (first, second) => {
    const used = await on(second, () => consume.submit(on(first, () => bigBytes.submit(96, 6)))).result();
    assert.equal(used.length, 96 * MIB);
    return { used: used.pid, memory: await on(second, () => sidecarMemory.submit()).result() };
  });
  assertReleased(memory, used, "a task whose input was 96 MiB");
});

// Why the tests above hold on any machine: in a sidecar, the collection that finds an ArrayBuffer dead gives its
// memory back before it returns, not V8's background sweeper some time later (src/transfer/release-memory.ts).
test("in a sidecar, a collection has given back a dead buffer's memory when it returns", async () => {
  const { late } = await onTwoWorkers(async (first) => on(first, () => sweepAfterCollection.submit(60)).result());
  assert.equal(late, 0, `in ${late} of 60 collections a dead 32 MiB buffer was still counted after the collection`);
});
