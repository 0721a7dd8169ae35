/** A user's task module, in TypeScript: the sidecar imports it through tsx, daskflow itself from dist/. */
import { task } from "daskflow";

export const square = task((x: number) => x * x);

/** Submits from inside a task: the nested runner's sidecars must load TypeScript too. */
export const sumOfSquares = task(async (n: number) => {
  const squares = square.map(Array.from({ length: n }, (_, i) => i + 1));
  return (await Promise.all(squares.map((f) => f.result()))).reduce((a, b) => a + b, 0);
});

/** What the sidecar that runs it looks like from inside. */
export const sidecarView = task(() => ({
  daskflow: import.meta.resolve("daskflow"),
  execArgv: process.execArgv,
  module: import.meta.url,
}));
