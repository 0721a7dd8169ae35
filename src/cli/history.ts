/** `npx daskflow history prune --older-than 30d`: deletes old flow runs with their task runs and logs. */
import { parseArgs } from "node:util";
import { InvalidOptionError } from "../core/errors.ts";
import { historyLocation, openHistory, parseDuration } from "../history/index.ts";
import { CliError } from "./run.ts";

export const usage = `npx daskflow history prune --older-than DURATION
  Deletes flow runs that started more than DURATION ago (e.g. 30d, 12h, 90m, 2w), with their task runs and logs,
  from the run history, and prints how many. DASKFLOW_HISTORY_RETENTION=30d does the same in the background of
  each flow process.`;

export async function historyCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== "prune") throw new CliError(`daskflow history: unknown subcommand '${sub ?? ""}'.\n${usage}`);
  const { values } = parseArgs({ args: rest, options: { "older-than": { type: "string" } } });
  const olderThan = values["older-than"];
  if (olderThan === undefined) throw new CliError(`daskflow history prune: give --older-than, e.g. --older-than 30d.\n${usage}`);
  let ms: number;
  try {
    ms = parseDuration(olderThan, "daskflow history prune --older-than");
  } catch (error) {
    if (error instanceof InvalidOptionError) throw new CliError(error.message);
    throw error;
  }
  const store = await openHistory().catch((error: Error) => {
    throw new CliError(`daskflow history prune: cannot open the run history at ${historyLocation().display}: ${error.message}`);
  });
  try {
    const counts = await store.prune(Date.now() - ms);
    console.log(`Pruned ${counts.flowRuns} flow run(s), ${counts.taskRuns} task run(s) and ${counts.logs} log line(s) older than ${olderThan} from ${store.location}.`);
  } finally {
    await store.close();
  }
}
