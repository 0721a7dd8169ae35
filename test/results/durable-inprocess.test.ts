/** Durable runs with the in-process runner: persisted results, cache hits, bad records, unhashable arguments, flow
 * retries, resume. Real files in a temporary result storage. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { flow, getRunContext } from "../../src/index.ts";
import { captureStderr, withLoggingLevel } from "../helpers.ts";
import { Point, addOne, anything, chain, keyedByUser, lastChain, link, perItem, perRun, ran, refreshed, shortLived, square } from "./fixtures/durable-tasks.ts";

const dirs: string[] = [];
function storage(): string {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-results-"));
  dirs.push(dir);
  return dir;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("durable runs, in-process", () => {
  test("a cached task's result is reused by the next flow run, as the same value, without running it", async () => {
    const resultStorage = storage();
    let futures: ReturnType<typeof square.submit>[] = [];
    const f = flow({ resultStorage }, async (xs: number[]) => {
      futures = xs.map((x) => square.submit(x));
      const sums = futures.map((sq) => addOne.submit(sq));
      return Promise.all(sums.map((s) => s.result()));
    });
    ran.length = 0;
    assert.deepEqual(await f([1, 2, 3]), [2, 5, 10]);
    assert.equal(ran.length, 6);
    assert.ok(readdirSync(resultStorage).filter((n) => n.endsWith(".dfr")).length >= 6);
    ran.length = 0;
    const { value, output } = await withLoggingLevel("INFO", () => captureStderr(() => f([1, 2, 3])));
    assert.deepEqual(value, [2, 5, 10]);
    assert.deepEqual(ran, [], "no task ran again");
    assert.equal(futures[0]!.state.name, "Cached");
    assert.equal(futures[0]!.state.cacheHit, true);
    assert.match(output, /Finished in state Cached\(\)/);
    const v = (await futures[1]!.result()) as { point: Point; tags: Map<string, number> };
    assert.ok(v.point instanceof Point, "a class instance comes back as its class");
    assert.equal(v.point.norm(), Math.hypot(2, 4));
    assert.equal(v.tags.get("x"), 2);
  });

  test("a corrupted record is a miss with a warning, and the task runs again", async () => {
    const resultStorage = storage();
    const f = flow({ resultStorage }, (x: number) => square(x).then(() => square.submit(x).result()));
    ran.length = 0;
    await f(7);
    const file = join(resultStorage, readdirSync(resultStorage).find((n) => n.endsWith(".dfr"))!);
    const record = readFileSync(file);
    record.writeUInt8(record.readUInt8(record.length - 1) ^ 0xff, record.length - 1); // flipped bits of the stored value
    writeFileSync(file, record);
    ran.length = 0;
    const { value, output } = await captureStderr(() => f(7));
    assert.equal((value as { sq: number }).sq, 49);
    assert.match(output, /is not used: its checksum does not match/);
    assert.ok(ran.includes("square(7)"));
  });

  test("an argument that cannot be part of a key is a warning naming its path; the run goes uncached", async () => {
    const resultStorage = storage();
    const f = flow({ resultStorage }, () => anything.submit({ nested: { fn: () => 1 } }).result());
    ran.length = 0;
    const { value, output } = await captureStderr(() => f());
    assert.equal(value, 1);
    assert.match(output, /runs uncached.*args\[0\]\.nested\.fn is a function/);
    assert.deepEqual(ran, ["anything"]);
  });

  test("a flow retry reuses the task runs completed in the earlier attempt, and says how many", async () => {
    const resultStorage = storage();
    let attempts = 0;
    const f = flow({ resultStorage, retries: 1 }, async () => {
      attempts++;
      const a = link.submit(0, 1, -1, "");
      const b = link.submit(a, 2, -1, "");
      await b.wait();
      if (attempts === 1) throw new Error("the flow fails after its tasks");
      return b;
    });
    ran.length = 0;
    const { value, output } = await withLoggingLevel("INFO", () => captureStderr(() => f()));
    assert.equal(value, 3);
    assert.equal(attempts, 2);
    assert.deepEqual(ran, ["link(1)", "link(2)"], "the retry ran no task again");
    assert.match(output, /Attempt 2 of the flow reused 2 task run\(s\)/);
  });

  test("resume after a failure at link 40 of a 50-link chain reruns only links 40-50", async () => {
    const resultStorage = storage();
    const flag = join(resultStorage, "fail");
    writeFileSync(flag, "");
    const c = chain.withOptions({ resultStorage });
    let id = "";
    const first = await captureStderr(() =>
      flow({ resultStorage, name: "id-probe" }, () => (id = getRunContext().flowRun!.id))().then(() => c.returnState(50, 40, flag)),
    );
    assert.equal(first.value.type, "FAILED");
    rmSync(flag);
    ran.length = 0;
    const resumed = await c.resume("last");
    assert.equal(resumed, (50 * 51) / 2);
    const rerun = lastChain.filter((f) => f.state.name !== "Cached").length;
    assert.equal(rerun, 11);
    assert.deepEqual(ran, Array.from({ length: 11 }, (_, i) => `link(${40 + i})`));
    assert.ok(id);
  });

  test("cacheKeyFn, the runId policy, expiry and refreshCache decide what is reused", async () => {
    const resultStorage = storage();
    const f = flow({ resultStorage }, async (noise: number) => {
      const a = await keyedByUser.submit({ id: 1, noise }).result();
      const b = await perRun.submit(5).result();
      const c = await shortLived.submit(6).result();
      const d = await refreshed.submit(7).result();
      return [a, b, c, d];
    });
    ran.length = 0;
    assert.deepEqual(await f(1), [10, 5, 6, 7]);
    assert.deepEqual(ran, ["keyed(1)", "perRun(5)", "shortLived(6)", "refreshed(7)"]);
    await new Promise((resolve) => setTimeout(resolve, 300)); // shortLived's entry expires
    ran.length = 0;
    assert.deepEqual(await f(2), [10, 5, 6, 7]);
    // The key function ignores `noise`; a new run id misses; an expired entry misses; refreshCache always runs.
    assert.deepEqual(ran, ["perRun(5)", "shortLived(6)", "refreshed(7)"]);
  });

  test("a map of 10,000 cached items: the next run's lookups find every one (looked up together, not one by one)", async () => {
    const resultStorage = storage();
    const xs = Array.from({ length: 10_000 }, (_, i) => i);
    let names: string[] = [];
    const f = flow({ resultStorage }, async () => {
      const futures = perItem.map(xs);
      const values = await Promise.all(futures.map((g) => g.result()));
      names = futures.map((g) => g.state.name);
      return values.reduce((a, b) => a + b, 0);
    });
    const sum = (10_000 * 9_999) / 2;
    assert.equal(await f(), sum);
    for (let i = 0; i < 100 && readdirSync(resultStorage).filter((n) => n.endsWith(".dfr")).length < 10_000; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await f(), sum);
    assert.equal(names.filter((n) => n === "Cached").length, 10_000);
  });

  test("equal arguments get equal keys however V8 holds their arrays (holey or packed)", async () => {
    const { valuesDigest } = await import("../../src/results/keys.ts");
    const holey: number[] = new Array<number>(3);
    holey[0] = 1;
    holey[1] = 2;
    holey[2] = 3;
    const keyOf = () => undefined;
    assert.equal(valuesDigest([{ xs: holey }], keyOf, "args"), valuesDigest([{ xs: [1, 2, 3] }], keyOf, "args"));
    assert.notEqual(valuesDigest([{ xs: [1, 2, 4] }], keyOf, "args"), valuesDigest([{ xs: [1, 2, 3] }], keyOf, "args"));
  });

  test("bad cache options are clear errors", async () => {
    const { task } = await import("../../src/index.ts");
    assert.throws(() => task({ cachePolicy: "input" as never }, () => 1), /option 'cachePolicy' must be one of "inputs"/);
    assert.throws(() => task({ cachePolicy: ["none", "inputs"] }, () => 1), /cannot combine "none"/);
    assert.throws(() => flow({ resultStorage: "" }, () => 1), /option 'resultStorage' must be a non-empty string/);
  });
});
