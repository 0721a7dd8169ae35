/**
 * How long the cluster holds task results the flow process never fetched (src/dask/task-lifetimes.ts): while the
 * flow's code can still reach a future or a COMPLETED state of the run, and no longer. A chain that passes 16 MiB
 * values from task to task, dropping each future, leaves the workers holding little; what the code kept still comes
 * back. Measured as a user would: the workers' own count of the result bytes in their memory (schedulerInfo).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { flow, getRunContext } from "../../src/index.ts";
import { DaskTaskRunner, getDaskClient } from "../../src/dask/index.ts";
import { fileCluster } from "./fixtures.ts";
import { on } from "./two-workers.ts";
import { bigBytes, digest, seeBytes, seededBytes } from "./large-tasks.ts";

const cluster = fileCluster([{ nthreads: 1 }, { nthreads: 1 }]);
const MIB = 2 ** 20;

test("results only tasks consumed are released once the flow's code dropped their futures; kept futures and states still fetch theirs", async () => {
  const rounds = 12;
  const out = await flow({ taskRunner: new DaskTaskRunner({ address: cluster.address }) }, async () => {
    const runner = getRunContext().taskRunner as DaskTaskRunner;
    const [first, second] = (await runner.workers()).map((w) => w.address).sort();
    const kept = on(first!, () => bigBytes.submit(4, 99));
    const keptState = await on(first!, () => bigBytes.submit(4, 98)).wait(); // only its state is kept
    for (let i = 0; i < rounds; i++) {
      const seen = await on(second!, () => seeBytes.submit(on(first!, () => bigBytes.submit(16, i)))).result();
      assert.equal(seen.length, 16 * MIB);
    }
    // Workers report what they hold with their heartbeats: wait for the count to settle, up to a minute.
    const client = await getDaskClient();
    let held = Number.POSITIVE_INFINITY;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
      const workers = Object.values((await client.schedulerInfo()).workers);
      held = workers.reduce((sum, w) => sum + (w.managed_bytes ?? Number.POSITIVE_INFINITY), 0);
      if (held < 40 * MIB) break;
    }
    return { held, kept: digest(await kept.result()), fromState: digest(await keptState.result()) };
  })();
  // 12 x 16 MiB were made, each also copied to the second worker; held until the run ended, they were 192 MiB or more.
  assert.ok(out.held < 40 * MIB, `the workers still hold ${(out.held / MIB).toFixed(1)} MiB of results`);
  assert.equal(out.kept, digest(seededBytes(4, 99)), "a future the flow kept still returns its value");
  assert.equal(out.fromState, digest(seededBytes(4, 98)), "so does a COMPLETED state it kept");
});
