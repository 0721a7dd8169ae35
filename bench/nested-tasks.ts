/** Tasks of bench/nested-child.ts: a task that submits `n` tasks and waits for them (workers import this module). */
import { task } from "daskflow";

export const leaf = task({ name: "leaf" }, (x: number) => x + 1);

export const fanOut = task({ name: "fan-out" }, async (n: number) => {
  const values = await Promise.all(leaf.map(Array.from({ length: n }, (_, i) => i)).map((f) => f.result()));
  return values.reduce((a, b) => a + b, 0);
});
