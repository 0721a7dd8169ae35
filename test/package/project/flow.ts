import { flow, task } from "daskflow";
import { DaskTaskRunner } from "daskflow/dask";

export class Square {
  constructor(readonly of: number, readonly value: number) {}
}

export const square = task((x: number) => new Square(x, x * x)); // comes back a Square, from any worker

const sumOfSquares = flow({ name: "sum-of-squares", taskRunner: new DaskTaskRunner() }, async (n: number) => {
  const squares = square.map(Array.from({ length: n }, (_, i) => i + 1)); // runs on a temporary local Dask cluster
  return (await Promise.all(squares.map((s) => s.result()))).reduce((sum, s) => sum + s.value, 0);
});

console.log(`sum of squares 1..10 = ${await sumOfSquares(10)}`);
