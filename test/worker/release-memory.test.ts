/**
 * A sidecar that moved large values for a task collects garbage before its next task (src/transfer/release-memory.ts),
 * so the task's large arrays give their memory back at once rather than whenever V8 would have collected them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { releaseAfterTask } from "../../src/transfer/release-memory.ts";

test("after a task that moved 64 MiB or more, its garbage is collected at once", async () => {
  let collected = false;
  const registry = new FinalizationRegistry(() => (collected = true));
  (() => registry.register(new Uint8Array(8), "value"))(); // garbage as soon as this returns
  releaseAfterTask(64 * 2 ** 20);
  for (let i = 0; i < 20 && !collected; i++) await tick(); // finalizers run after the collection, on a later turn
  assert.ok(collected, "the garbage of the task was collected");
});
