/**
 * Run history: every flow run is recorded (by default in .daskflow/history.db at the project root), and read back
 * here with the typed `history` API, as `npx daskflow ui` and `npx daskflow runs` read it.
 *
 * The flow maps a task over five numbers on the in-process runner; one item fails and the flow returns the others
 * (allowFailure). Then the script reads its own run back: state, task runs by state, the failed run's error, and
 * the warning it logged.
 *
 *   npx tsx examples/history.ts
 *   npx daskflow ui      # then open the printed address to see the run's timeline
 */
import { allowFailure, flow, getRunLogger, history, task } from "daskflow";

export const parse = task(async (n: number) => {
  if (n === 4) throw new RangeError(`record ${n} is malformed`);
  await new Promise((resolve) => setTimeout(resolve, 20 * n));
  return n * 10;
});

export const keepGood = task((values: Array<number | Error>) => {
  const bad = values.filter((v) => v instanceof Error).length;
  if (bad) getRunLogger().warning(`${bad} record(s) skipped`);
  return values.filter((v): v is number => typeof v === "number");
});

export const ingest = flow({ name: "ingest-records" }, async (ns: number[]) => {
  const parsed = parse.map(ns);
  return keepGood(parsed.map((p) => allowFailure(p)));
});

const state = await ingest.returnState([1, 2, 3, 4, 5]);
console.log(`flow run ended ${state.name}`);

// The run's records are written before the flow call returns.
const [run] = (await history.flowRuns({ flowName: "ingest-records", limit: 1 })).items;
if (!run) throw new Error("the run was not recorded: is DASKFLOW_HISTORY=off?");
const { items: tasks } = await history.taskRuns({ flowRunId: run.id });
const failed = tasks.find((t) => t.state === "FAILED");
const { items: warnings } = await history.logs({ flowRunId: run.id, level: "warning" });
console.log(`recorded flow run '${run.name}' of '${run.flowName}': ${run.stateName}, parameters ${run.parameters}`);
console.log(`task runs by state: ${JSON.stringify(run.taskCounts)}`);
console.log(`failed task run: ${failed?.name} (${failed?.error?.split("\n")[0]})`);
console.log(`lines at WARNING and above: ${warnings.map((w) => `${w.level}: ${w.message.split("\n")[0]}`).join(" | ")}`);
await history.close();
