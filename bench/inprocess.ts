/**
 * In-process runner throughput: N trivial tasks through `submit` on the ConcurrentTaskRunner, against a plain
 * `Promise.all` over the same function, side by side in one process (goal: >= 50,000 tasks/s).
 *   npx tsx bench/inprocess.ts [N]
 */
import { flow, task } from "daskflow";

process.env.DASKFLOW_LOGGING_LEVEL = "WARNING";
const N = Number(process.argv[2] ?? 50_000);
const ROUNDS = 5;

const fn = (x: number) => x + 1;
const inc = task(fn);

const viaSubmit = flow({ name: "bench-submit" }, async (n: number) => {
  const futures = [];
  for (let i = 0; i < n; i++) futures.push(inc.submit(i));
  let sum = 0;
  for (const f of futures) sum += await f.result();
  return sum;
});

async function viaPromiseAll(n: number): Promise<number> {
  const results = await Promise.all(Array.from({ length: n }, (_, i) => Promise.resolve().then(() => fn(i))));
  return results.reduce((a, b) => a + b, 0);
}

function best(times: number[]): number {
  return Math.min(...times);
}

const expected = (N * (N + 1)) / 2;
const daskflowTimes: number[] = [];
const plainTimes: number[] = [];
await viaSubmit(1000); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  let t = performance.now();
  if ((await viaSubmit(N)) !== expected) throw new Error("wrong sum from daskflow");
  daskflowTimes.push(performance.now() - t);
  t = performance.now();
  if ((await viaPromiseAll(N)) !== expected) throw new Error("wrong sum from Promise.all");
  plainTimes.push(performance.now() - t);
}
const perSecond = (ms: number) => Math.round((N / ms) * 1000);
const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
console.log(`tasks: ${N}, best of ${ROUNDS} rounds, rss ${rss} MiB`);
console.log(`daskflow submit (ConcurrentTaskRunner): ${perSecond(best(daskflowTimes)).toLocaleString("en")} tasks/s`);
console.log(`plain Promise.all: ${perSecond(best(plainTimes)).toLocaleString("en")} calls/s`);
console.log(`throughput ratio daskflow/Promise.all: ${(best(plainTimes) / best(daskflowTimes)).toFixed(3)}`);
