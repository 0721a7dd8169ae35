/** Functions and tasks for the Bag tests; workers import this module (by-reference functions and tasks live here). */
import { appendFileSync } from "node:fs";
import { basename } from "node:path";
import { task } from "../../src/index.ts";
import { Bag } from "../../src/dask/index.ts";

const SUFFIX = "!";

/** Uses an import and a module variable: it cannot travel by source, so it is passed by reference. */
export function shout(path: string): string {
  return basename(path).toUpperCase() + SUFFIX;
}

/** A Bag built and computed inside a task on a worker (through that worker's session). */
export const bagInTask = task(async (n: number) => {
  const squares = Bag.fromSequence(Array.from({ length: n }, (_, i) => i), { npartitions: 4 }).map((x) => x * x);
  return { sum: await squares.sum().compute(), evens: await squares.filter((x) => x % 2 === 0).count().compute() };
});

/** Marks each element it handles in `file` (a line each), after working on it for `ms`: shows what ran. */
export function slowMark(x: number, file: string, ms: number): number {
  const until = Date.now() + ms;
  while (Date.now() < until); // busy, as real work is
  appendFileSync(file, `${x}\n`);
  return x;
}
