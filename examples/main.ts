/**
 * The main job: a flow whose tasks run in parallel. `npm start` runs it.
 */
import { flow, task, getRunLogger } from "daskflow";

export const square = task(async (x: number) => {
  getRunLogger().info(`squaring ${x}`);
  return x * x;
});

export const total = task((values: number[]) => values.reduce((a, b) => a + b, 0));

export const sumOfSquares = flow({ name: "sum-of-squares" }, async (n: number) => {
  const squares = square.map(Array.from({ length: n }, (_, i) => i + 1));
  return total.submit(squares).result();
});

const result = await sumOfSquares(10);
console.log(`sum of squares 1..10 = ${result}`);
