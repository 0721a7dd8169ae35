/** Whether a flow run shows progress: its `progress` option, `DASKFLOW_PROGRESS`, and the logging level. */
import { LEVELS } from "../logger.ts";

const OFF = new Set(["0", "off", "false", "no"]);
const ON = new Set(["1", "on", "true", "yes", ""]);

/** The reason progress is off, or undefined when it is on; `warn` hears of a value it does not know. */
export function progressOff(option: boolean | undefined, threshold: number, warn: (message: string) => void): string | undefined {
  if (option === false) return "the flow's progress option";
  const raw = process.env.DASKFLOW_PROGRESS;
  if (raw !== undefined) {
    const value = raw.trim().toLowerCase();
    if (OFF.has(value)) return "DASKFLOW_PROGRESS";
    if (!ON.has(value)) warn(`DASKFLOW_PROGRESS=${JSON.stringify(raw)} is not one of 0, off, false, no, 1, on, true, yes; progress stays on. Set DASKFLOW_PROGRESS=0 to turn it off.`);
  }
  // Progress lines are INFO records: a level that hides INFO hides them too.
  if (threshold > LEVELS.info) return "DASKFLOW_LOGGING_LEVEL";
  return undefined;
}
