/** Durable runs on a real Dask cluster: the workers write the results they computed; the next run's lookups hit
 * (a batch's items too), a hit feeds an uncached downstream task, and a location the workers cannot write is an
 * error naming them when the run starts. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { flow, unmapped } from "../../src/index.ts";
import { DaskTaskRunner } from "../../src/dask/index.ts";
import { captureStderr, sleep, withLoggingLevel } from "../helpers.ts";
import { Point, chain, lastChain, link, square, total } from "../results/fixtures/durable-tasks.ts";
import { fileCluster } from "./fixtures.ts";

const cluster = fileCluster([{ nthreads: 2 }]);
const onCluster = () => new DaskTaskRunner({ address: cluster.address });
const dirs: string[] = [];
const storage = () => {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-results-"));
  dirs.push(dir);
  return dir;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The workers write after the task's result is on its way: wait for the records. */
async function records(dir: string, n: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const count = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".dfr")).length : 0;
    if (count >= n) return count;
    await sleep(50);
  }
  return readdirSync(dir).filter((f) => f.endsWith(".dfr")).length;
}

test("on Dask, results written by the workers are hits in the next run: no Dask task, the same values, a hit feeding an uncached task", async () => {
  const resultStorage = storage();
  const run = flow({ taskRunner: onCluster(), resultStorage }, async (xs: number[]) => {
    const squares = square.map(xs);
    const sums = squares.map((s) => total.submit(s));
    const batched = square.with({ batchSize: 10 }).map(xs.map((x) => x + 100));
    const states = await Promise.all(squares.map((s) => s.wait()));
    const batchStates = await Promise.all(batched.map((s) => s.wait()));
    return {
      names: states.map((s) => s.name),
      batchNames: batchStates.map((s) => s.name),
      keys: squares.map((s) => s.daskKey),
      sums: await Promise.all(sums.map((s) => s.result())),
      point: (await squares[2]!.result()).point,
    };
  });
  const xs = Array.from({ length: 20 }, (_, i) => i + 1);
  const first = await run(xs);
  assert.ok(first.names.every((n) => n === "Completed"));
  assert.equal(await records(resultStorage, 40), 40, "every square and batched square persisted by its worker");
  const second = await run(xs);
  assert.ok(second.names.every((n) => n === "Cached"), `got ${second.names.join(",")}`);
  assert.ok(second.batchNames.every((n) => n === "Cached"), `batch items: ${second.batchNames.join(",")}`);
  assert.ok(second.keys.every((k) => k === undefined), "a hit runs no Dask task");
  assert.deepEqual(second.sums, first.sums);
  assert.ok(second.point instanceof Point);
  assert.equal(second.point.norm(), Math.hypot(3, 9));
});

test("on Dask, a result location a worker cannot write is an error when the run starts, naming the worker and the location", async () => {
  const blocker = join(storage(), "a-file");
  writeFileSync(blocker, "");
  const resultStorage = join(blocker, "results");
  const run = flow({ taskRunner: onCluster(), resultStorage }, async () => square.submit(3).result());
  const { value: state } = await captureStderr(() => run.returnState());
  assert.equal(state.type, "FAILED");
  const message = state.error?.message ?? "";
  assert.match(message, new RegExp(`Result storage '${resultStorage}' cannot be written by 1 worker\\(s\\): worker tcp://127\\.0\\.0\\.1:\\d+`));
});

test("on Dask, a flow retry reuses the task runs its first attempt completed, and feeds their values to new ones", async () => {
  let attempts = 0;
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const run = flow({ taskRunner: onCluster(), retries: 1, resultStorage: storage() }, async () => {
    attempts++;
    const firsts = link.with({ batchSize: 5 }).map(unmapped(0), xs, unmapped(-1), unmapped(""));
    await Promise.all(firsts.map((s) => s.wait()));
    if (attempts === 1) throw new Error("the first attempt fails after its tasks");
    const seconds = firsts.map((f) => link.submit(f, 100, -1, "")); // new runs, whose upstreams were reused
    return { keys: firsts.map((s) => s.daskKey), values: await Promise.all(seconds.map((s) => s.result())) };
  });
  const { value, output } = await withLoggingLevel("INFO", () => captureStderr(() => run()));
  assert.equal(attempts, 2);
  assert.ok(value.keys.every((k) => k === undefined), "the retry sent none of the completed runs to Dask again");
  assert.deepEqual(value.values, xs.map((x) => x + 100));
  assert.match(output, /Attempt 2 of the flow reused 10 task run\(s\)/);
});

test("on Dask, a task run that failed leaves no record: resuming its run reruns it and what came after, with the right value", async () => {
  const resultStorage = storage();
  const flag = join(resultStorage, "fail");
  writeFileSync(flag, "");
  const c = chain.withOptions({ taskRunner: onCluster(), resultStorage });
  const { value: first } = await captureStderr(() => c.returnState(6, 4, flag));
  assert.equal(first.type, "FAILED");
  assert.equal(await records(resultStorage, 3), 3, "links 1-3 persisted; the failed link 4 (and 5, 6, never run) not");
  await sleep(300); // a wrongly written record of the failed link would show up by now
  assert.equal(readdirSync(resultStorage).filter((f) => f.endsWith(".dfr")).length, 3);
  rmSync(flag);
  const { value: resumed } = await captureStderr(() => c.resume("last"));
  assert.equal(resumed, 21);
  assert.deepEqual(lastChain.map((f) => f.state.name), ["Cached", "Cached", "Cached", "Completed", "Completed", "Completed"]);
});
