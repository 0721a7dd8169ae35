/**
 * Option validation for tasks, flows and per-call options, in one place with one message shape:
 *   "<where>: option '<name>' <problem>. <what to do>"
 */
import { InvalidOptionError } from "./errors.ts";
import type { TaskRunner } from "./task-runner.ts";
import type { TaskOptions } from "./task-definition.ts";
import type { FlowHookOptions } from "../hooks/types.ts";

export type { TaskOptions };

export interface FlowOptions extends FlowHookOptions {
  name?: string;
  description?: string;
  /** Where `task.submit()` and `task.map()` run. Default: a new `ConcurrentTaskRunner`. */
  taskRunner?: TaskRunner;
  /** Fail the flow run when its function runs longer than this. */
  timeoutSeconds?: number;
  /** Show live progress of task runs on stderr when they run longer than about 2 s. Default true (see also
   * DASKFLOW_PROGRESS=0). */
  progress?: boolean;
  /** Its tasks' default for persistResult. */
  persistResult?: boolean;
  /** Where persisted results go: a path every worker reaches, or an `s3://`, `gs://`, `az://` URL. Default
   * `.daskflow/results` at the project root (or DASKFLOW_RESULT_STORAGE). */
  resultStorage?: string;
  /** Re-run the flow function this many times when a run fails; completed task runs are reused. Default 0. */
  retries?: number;
  retryDelaySeconds?: number;
}

export interface CallOptions {
  /** Futures this call must wait for although it takes no data from them. */
  waitFor?: readonly unknown[];
  /** For `map`: items per runner call (one future and one state per item all the same). */
  batchSize?: number;
}

type Check = (value: unknown) => string | undefined;

const nonNegativeInt: Check = (v) =>
  Number.isInteger(v) && (v as number) >= 0 ? undefined : `must be a whole number >= 0, got ${show(v)}`;
const positiveNumber: Check = (v) =>
  typeof v === "number" && Number.isFinite(v) && v > 0 ? undefined : `must be a number > 0, got ${show(v)}`;
const nonNegativeNumber: Check = (v) =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 ? undefined : `must be a number >= 0, got ${show(v)}`;
const nonEmptyString: Check = (v) =>
  typeof v === "string" && v.trim() !== "" ? undefined : `must be a non-empty string, got ${show(v)}`;
const anyString: Check = (v) => (typeof v === "string" ? undefined : `must be a string, got ${show(v)}`);
const stringList: Check = (v) =>
  Array.isArray(v) && v.every((t) => typeof t === "string") ? undefined : `must be an array of strings, got ${show(v)}`;
const delays: Check = (v) =>
  Array.isArray(v)
    ? v.every((d) => nonNegativeNumber(d) === undefined)
      ? undefined
      : `must contain numbers >= 0, got ${show(v)}`
    : nonNegativeNumber(v);
const boolean: Check = (v) => (typeof v === "boolean" ? undefined : `must be true or false, got ${show(v)}`);
const array: Check = (v) => (Array.isArray(v) ? undefined : `must be an array, got ${show(v)}`);
const hooks: Check = (v) =>
  typeof v === "function" || (Array.isArray(v) && v.every((h) => typeof h === "function"))
    ? undefined
    : `must be a function (task or flow, run, state) => void, or an array of them, got ${show(v)}`;
const HOOKS = { onCompletion: hooks, onFailure: hooks, onCrashed: hooks, onCancellation: hooks, onRunning: hooks };
const runner: Check = (v) =>
  typeof v === "object" && v !== null && typeof (v as TaskRunner).submit === "function" && typeof (v as TaskRunner).duplicate === "function"
    ? undefined
    : `must be a task runner such as new ConcurrentTaskRunner() or new DaskTaskRunner(), got ${show(v)}`;

const POLICIES = ["inputs", "taskSource", "flowParameters", "runId", "none"];
const cachePolicy: Check = (v) => {
  const list: unknown[] = Array.isArray(v) ? v : [v];
  const bad = list.find((p) => typeof p !== "string" || !POLICIES.includes(p));
  if (list.length === 0 || bad !== undefined) return `must be one of ${POLICIES.map((p) => `"${p}"`).join(", ")} or an array of them (["inputs", "taskSource"]), got ${show(v)}`;
  if (list.length > 1 && list.includes("none")) return `cannot combine "none" with other policies, got ${show(v)}`;
  return undefined;
};

const TASK: Record<keyof TaskOptions, Check> = {
  name: nonEmptyString,
  description: anyString,
  retries: nonNegativeInt,
  retryDelaySeconds: delays,
  retryJitterFactor: nonNegativeNumber,
  timeoutSeconds: positiveNumber,
  tags: stringList,
  ...HOOKS,
  persistResult: boolean,
  cachePolicy: cachePolicy,
  cacheKeyFn: (v) => (typeof v === "function" ? undefined : `must be a function (args, context) => string, got ${show(v)}`),
  cacheExpirationSeconds: positiveNumber,
  refreshCache: boolean,
};
const FLOW: Record<keyof FlowOptions, Check> = {
  name: nonEmptyString,
  description: anyString,
  taskRunner: runner,
  timeoutSeconds: positiveNumber,
  progress: boolean,
  ...HOOKS,
  persistResult: boolean,
  resultStorage: nonEmptyString,
  retries: nonNegativeInt,
  retryDelaySeconds: nonNegativeNumber,
};
const CALL: Record<keyof CallOptions, Check> = {
  waitFor: array,
  batchSize: (v) => (Number.isInteger(v) && (v as number) >= 1 ? undefined : `must be a whole number >= 1, got ${show(v)}`),
};

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "function") return "a function";
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function closest(name: string, known: string[]): string | undefined {
  const lower = name.toLowerCase();
  return known.find((k) => k.toLowerCase().startsWith(lower.slice(0, 4)) || lower.startsWith(k.toLowerCase().slice(0, 5)));
}

/** Checks `options` against a table of known keys; throws InvalidOptionError naming the first problem. */
export function validateOptions<T extends object>(where: string, options: unknown, table: Record<string, Check>): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(`${where}: options must be an object, got ${show(options)}.`);
  }
  const known = Object.keys(table);
  for (const [key, value] of Object.entries(options)) {
    const check = table[key];
    if (!check) {
      const hint = closest(key, known);
      throw new InvalidOptionError(
        `${where}: unknown option '${key}'.${hint ? ` Did you mean '${hint}'?` : ""} Known options: ${known.join(", ")}.`,
      );
    }
    if (value === undefined) continue;
    const problem = check(value);
    if (problem) throw new InvalidOptionError(`${where}: option '${key}' ${problem}.`);
  }
  return options as T;
}

export const validateTaskOptions = (where: string, o: unknown) => validateOptions<TaskOptions>(where, o, TASK);
export const validateFlowOptions = (where: string, o: unknown) => validateOptions<FlowOptions>(where, o, FLOW);
export const validateCallOptions = (where: string, o: unknown) => validateOptions<CallOptions>(where, o, CALL);
