/**
 * Durable runs on a temporary Dask cluster: a flow that fails at its 4th link is resumed, and only links 4-6 run
 * again; a cached task is not recomputed by the next run.
 *
 * The first run's `link` fails while a marker file exists (the "bug"); the script removes the marker (the "fix") and
 * resumes the failed run: the resumed run gets the first run's parameters, finds links 1-3 in the result storage
 * (their inputs and source are unchanged) and runs 4-6. The results live in a temporary folder here
 * (`resultStorage`); by default they go to .daskflow/results at the project root.
 *
 *   npx tsx examples/durable.ts
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TaskFuture, flow, task } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";

export const link = task(async (previous: number, i: number, marker: string) => {
  if (i === 4 && existsSync(marker)) throw new Error(`link ${i} hit the bug (${marker} exists)`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  return previous + i;
});

export const slowSquare = task({ cachePolicy: "inputs" }, async (x: number) => {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return x * x;
});

const storage = mkdtempSync(join(tmpdir(), "daskflow-example-"));
const runner = () => new DaskTaskRunner({ clusterKwargs: { n_workers: 1, threads_per_worker: 2 } });
const ran: Array<TaskFuture<number>> = [];

export const chain = flow({ name: "chain", taskRunner: runner(), persistResult: true, resultStorage: storage }, async (links: number, marker: string) => {
  let previous: number | TaskFuture<number> = 0;
  for (let i = 1; i <= links; i++) ran.push((previous = link.submit(previous, i, marker)));
  return typeof previous === "number" ? previous : previous.result();
});

export const squares = flow({ name: "squares", taskRunner: runner(), resultStorage: storage }, async () =>
  Promise.all(slowSquare.map([2, 3, 4]).map(async (f) => ({ value: await f.result(), state: (await f.wait()).name }))),
);

try {
  const marker = join(storage, "bug");
  writeFileSync(marker, "");
  const failed = await chain.returnState(6, marker);
  console.log(`first run: ${failed.name} (${failed.message?.split(":")[0]})`);

  rmSync(marker); // the fix
  ran.length = 0;
  const total = await chain.resume("last");
  const rerun = ran.filter((f) => f.state.name !== "Cached").length;
  console.log(`resumed run: total ${total}, links run again: ${rerun} of 6, reused: ${6 - rerun}`);

  const first = await squares();
  const second = await squares();
  console.log(`squares: ${first.map((s) => `${s.value} ${s.state}`).join(", ")} | next run: ${second.map((s) => `${s.value} ${s.state}`).join(", ")}`);
} finally {
  rmSync(storage, { recursive: true, force: true });
}
