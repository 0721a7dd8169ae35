/**
 * `npx daskflow runs [--limit N] [--flow NAME] [--state S]`: the recent flow runs of this project's history (or of
 * DASKFLOW_HISTORY_URL), newest first, as a table.
 */
import { parseArgs } from "node:util";
import { StateType } from "../core/state.ts";
import { historyLocation, openHistory } from "../history/index.ts";
import type { FlowRunRecord } from "../history/types.ts";
import { CliError } from "./run.ts";

export const usage = `npx daskflow runs [--limit N] [--flow NAME] [--state STATE]
  Prints recent flow runs (newest first) from the run history: start, flow, run name, state, duration and task
  runs by state. STATE is one of ${Object.values(StateType).join(", ")} (repeat --state for several).`;

export async function runs(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { limit: { type: "string" }, flow: { type: "string" }, state: { type: "string", multiple: true } } });
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError(`daskflow runs: --limit must be a positive whole number; got '${values.limit}'.`);
  const states = (values.state ?? []).map((s) => {
    const type = s.toUpperCase();
    if (!(type in StateType)) throw new CliError(`daskflow runs: --state '${s}' is not a state. Use one of ${Object.values(StateType).join(", ")}.`);
    return type as StateType;
  });
  const store = await openHistory().catch((error: Error) => {
    throw new CliError(`daskflow runs: cannot open the run history at ${historyLocation().display}: ${error.message}`);
  });
  try {
    const page = await store.flowRuns({ limit, ...(values.flow !== undefined && { flowName: values.flow }), ...(states.length && { state: states }) });
    if (page.items.length === 0) {
      console.log(`No flow runs${values.flow || states.length ? " match" : " recorded yet"} in ${store.location}.`);
      return;
    }
    console.log(table(page.items));
  } finally {
    await store.close();
  }
}

const pad2 = (n: number) => String(n).padStart(2, "0");

function started(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${pad2(Math.floor(ms / 1000) % 60)}s`;
  return `${Math.floor(ms / 3_600_000)}h${pad2(Math.floor(ms / 60_000) % 60)}m`;
}

function table(items: FlowRunRecord[]): string {
  const rows = items.map((r) => [
    started(r.startTime),
    r.flowName,
    r.name,
    r.stateName,
    r.endTime === undefined ? "running" : duration(r.endTime - r.startTime),
    Object.entries(r.taskCounts).map(([state, n]) => `${n} ${state.toLowerCase()}`).join(", ") || "-",
    r.id,
  ]);
  const head = ["STARTED", "FLOW", "RUN", "STATE", "DURATION", "TASK RUNS", "ID"];
  // Control characters in names would move the terminal's cursor: shown escaped.
  const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  const all = [head, ...rows.map((row) => row.map(clean))];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n");
}
