/**
 * A flow process of its own for the shipping tests that need another Node than the test's (`process.execPath` in a
 * folder the workers cannot see): runs `durations` on the scheduler given as argv[2] and prints the result as JSON.
 */
import { flow } from "../../../src/index.ts";
import { DaskTaskRunner } from "../../../src/dask/index.ts";
import { durations } from "../fixtures/tasks.ts";

const address = process.argv[2]!;
const run = flow({ name: "flow-on", taskRunner: new DaskTaskRunner({ address, clientKwargs: { timeout: 30 } }) }, async () => durations.submit(["1s"]).result());
const state = await run.returnState();
process.stdout.write(`${JSON.stringify({ type: state.type, message: state.message, value: state.data ?? null })}\n`);
