/**
 * A script whose class cannot be reached on a worker before a bound: `Lost` is defined in this module, which
 * defines no task or flow (the flow comes from lost-class-flow.ts) and waits at its top level for the flow. A worker
 * importing this module never gets past that line, and nothing of this module is known there to read `Lost` from.
 */
import { echo, lostFlow } from "./lost-class-flow.ts";

export class Lost {
  constructor(readonly n: number) {}
}

try {
  console.log(`RESULT ${JSON.stringify(await lostFlow(echo, new Lost(1)))}`);
} catch (error) {
  console.log(`ERROR ${(error as Error).message}`);
}
