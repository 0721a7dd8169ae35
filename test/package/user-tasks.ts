/** A user's task module, in TypeScript: the sidecar imports it through tsx, daskflow itself from dist/. */
import { task } from "daskflow";

export const square = task((x: number) => x * x);

/** What the sidecar that runs it looks like from inside. */
export const sidecarView = task(() => ({
  daskflow: import.meta.resolve("daskflow"),
  execArgv: process.execArgv,
  module: import.meta.url,
}));
