/**
 * What the progress display costs the in-process runner: the same flow as bench/inprocess.ts (N submits),
 * alternating rounds with progress off (DASKFLOW_PROGRESS=0) and on, at INFO, in one process. Trivial tasks keep
 * the event loop in microtasks until the map ends (no timer runs, so no display can show); tasks that yield once
 * (`await setImmediate()`, 64 at a time) let the display's timer run, and N is large enough that such a round lasts
 * longer than the 2 s after which it shows. With a second argument, the path of another build's dist/index.js (e.g. main's),
 * its rounds of trivial tasks alternate with this build's too, both at WARNING.
 *   npx tsx bench/progress.ts [N] [/path/to/other/dist/index.js]
 */
import { setImmediate as yieldOnce } from "node:timers/promises";
import * as current from "daskflow";

type Lib = Pick<typeof current, "flow" | "task" | "ConcurrentTaskRunner">;
const N = Number(process.argv[2] ?? 150_000);
const other = process.argv[3] ? ((await import(process.argv[3])) as Lib) : undefined;
const ROUNDS = 5;

function bench(lib: Lib, name: string, yielding = false) {
  const inc = yielding
    ? lib.task({ name: `inc-${name}` }, async (x: number) => (await yieldOnce(), x + 1))
    : lib.task({ name: `inc-${name}` }, (x: number) => x + 1);
  // Yielding tasks run 64 at a time, so the event loop turns (and timers run) while the map runs.
  const taskRunner = yielding ? new lib.ConcurrentTaskRunner({ maxWorkers: 64 }) : undefined;
  return lib.flow({ name: `bench-${name}`, ...(taskRunner ? { taskRunner } : {}) }, async (n: number) => {
    const futures = [];
    for (let i = 0; i < n; i++) futures.push(inc.submit(i));
    let sum = 0;
    for (const f of futures) sum += await f.result();
    return sum;
  });
}

interface Side {
  label: string;
  run: (n: number) => Promise<number>;
  env: Record<string, string>;
  times: number[];
}
const OFF = { DASKFLOW_PROGRESS: "0", DASKFLOW_LOGGING_LEVEL: "INFO" };
const ON = { DASKFLOW_PROGRESS: "1", DASKFLOW_LOGGING_LEVEL: "INFO" };
const sides: Side[] = [
  { label: "trivial tasks, progress off (DASKFLOW_PROGRESS=0), INFO", run: bench(current, "off"), env: OFF, times: [] },
  { label: "trivial tasks, progress on, INFO", run: bench(current, "on"), env: ON, times: [] },
  { label: "yielding tasks, progress off, INFO", run: bench(current, "yield-off", true), env: OFF, times: [] },
  { label: "yielding tasks, progress on (display shows), INFO", run: bench(current, "yield-on", true), env: ON, times: [] },
];
if (other) {
  sides.push({ label: "other build, WARNING", run: bench(other, "other"), env: { DASKFLOW_LOGGING_LEVEL: "WARNING" }, times: [] });
  sides.push({ label: "this build, WARNING", run: bench(current, "this"), env: { DASKFLOW_LOGGING_LEVEL: "WARNING" }, times: [] });
}

const expected = (N * (N + 1)) / 2;
for (const side of sides) {
  Object.assign(process.env, side.env);
  await side.run(1000); // warm-up
}
for (let r = 0; r < ROUNDS; r++) {
  for (const side of sides) {
    Object.assign(process.env, side.env);
    const t = performance.now();
    if ((await side.run(N)) !== expected) throw new Error(`wrong sum (${side.label})`);
    side.times.push(performance.now() - t);
  }
}
const perSecond = (side: Side) => Math.round((N / Math.min(...side.times)) * 1000);
console.log(`tasks: ${N}, best of ${ROUNDS} alternating rounds`);
for (const side of sides) console.log(`${side.label}: ${perSecond(side).toLocaleString("en")} tasks/s`);
const ratio = (a: number, b: number) => (perSecond(sides[a]!) / perSecond(sides[b]!)).toFixed(3);
console.log(`ratio progress on/off: trivial tasks ${ratio(1, 0)}, yielding tasks ${ratio(3, 2)}`);
if (other) console.log(`ratio this/other build: ${ratio(5, 4)}`);
