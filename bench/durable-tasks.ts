/** The tasks of bench/durable.ts (their own module: Dask workers import it). */
import { existsSync } from "node:fs";
import { task } from "daskflow";

/** A cached task with a little work in it (the same work in the computing and the cached phase). */
export const cachedSquare = task({ name: "cachedSquare", cachePolicy: "inputs" }, (x: number) => {
  let acc = 0;
  for (let i = 0; i < 20_000; i++) acc += (x * i) % 7;
  return { x, sq: x * x, acc };
});

/** Fails at link `failAt` while the file `flag` exists. */
export const link = task({ name: "link" }, (prev: number, i: number, failAt: number, flag: string) => {
  if (i === failAt && existsSync(flag)) throw new Error(`link ${i} fails`);
  return prev + i;
});
