/**
 * Concurrency limits per tag (docs/hooks-and-limits.md): what a runner's `concurrencyLimits` option says, checked
 * with the message shape of src/core/options.ts, and resolved to the semaphores that hold them.
 */

/** Where a limit holds: one flow run's tasks ("run", the default), or every flow run on the same cluster. */
export type LimitScope = "run" | "cluster";

export interface ConcurrencyLimitSpec {
  /** Task runs with the tag running at once (a whole number >= 1). */
  limit: number;
  /** Default "run". "cluster": shared by every flow run whose runner reaches the same Dask scheduler. */
  scope?: LimitScope;
  /** A task run that waited longer than this for its slot fails (TimedOut) naming the limit. Default: the task's
   * own `timeoutSeconds`, else no bound. */
  timeoutSeconds?: number;
}

/** A tag's limit: a number (run scope), or the full form. */
export type ConcurrencyLimit = number | ConcurrencyLimitSpec;
export type ConcurrencyLimits = Readonly<Record<string, ConcurrencyLimit>>;

/** A limit resolved for one runner: the name of the Dask semaphore (or in-process slot pool) that holds it. */
export interface ResolvedLimit {
  tag: string;
  limit: number;
  scope: LimitScope;
  semaphore: string;
  timeoutSeconds?: number;
}

/** The resolved limits of a DaskTaskRunner, handed to its sidecars (a task's concurrency() and nested submits). */
export const LIMITS_ENV = "DASKFLOW_CONCURRENCY_LIMITS";

const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v)));

function checkLimit(tag: string, value: unknown): string | undefined {
  const spec = typeof value === "number" ? { limit: value } : value;
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    return `'${tag}' must be a number or { limit, scope?, timeoutSeconds? }, got ${show(value)}`;
  }
  const known = ["limit", "scope", "timeoutSeconds"];
  const unknown = Object.keys(spec).find((k) => !known.includes(k));
  if (unknown) return `'${tag}' has unknown key '${unknown}' (known: ${known.join(", ")})`;
  const { limit, scope, timeoutSeconds } = spec as Record<string, unknown>;
  if (limit === 0) return `'${tag}' is 0: no task tagged '${tag}' could ever run. Give it a limit >= 1, or drop the tag from those tasks`;
  if (!Number.isInteger(limit) || (limit as number) < 1) return `'${tag}' limit must be a whole number >= 1, got ${show(limit)}`;
  if (scope !== undefined && scope !== "run" && scope !== "cluster") return `'${tag}' scope must be "run" or "cluster", got ${show(scope)}`;
  if (timeoutSeconds !== undefined && !(typeof timeoutSeconds === "number" && timeoutSeconds > 0 && Number.isFinite(timeoutSeconds))) {
    return `'${tag}' timeoutSeconds must be a number > 0, got ${show(timeoutSeconds)}`;
  }
  return undefined;
}

/** The options-table check of `concurrencyLimits`. */
export function checkConcurrencyLimits(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `must be an object of tag → limit, e.g. { db: 3 } or { db: { limit: 3, scope: "cluster" } }, got ${show(value)}`;
  }
  for (const [tag, limit] of Object.entries(value)) {
    const problem = checkLimit(tag, limit);
    if (problem) return problem;
  }
  return undefined;
}

/** Each tag's limit with the semaphore that holds it: per runner (`runId`) for run scope, by tag for cluster scope. */
export function resolveLimits(limits: ConcurrencyLimits | undefined, runId: string): Map<string, ResolvedLimit> {
  const out = new Map<string, ResolvedLimit>();
  for (const [tag, value] of Object.entries(limits ?? {})) {
    const spec = typeof value === "number" ? { limit: value } : value;
    const scope = spec.scope ?? "run";
    const resolved: ResolvedLimit = { tag, limit: spec.limit, scope, semaphore: scope === "cluster" ? `daskflow-limit-${tag}` : `daskflow-run-${runId}-limit-${tag}` };
    if (spec.timeoutSeconds !== undefined) resolved.timeoutSeconds = spec.timeoutSeconds;
    out.set(tag, resolved);
  }
  return out;
}

/** In a sidecar: the limits of the runner whose task this is (so nested submits and concurrency() share them). */
export function inheritedLimits(): Map<string, ResolvedLimit> {
  const text = process.env[LIMITS_ENV];
  if (!text) return new Map();
  return new Map((JSON.parse(text) as ResolvedLimit[]).map((l) => [l.tag, l]));
}

/** The limits of `tags` (undefined for none: the common path costs nothing). */
export function limitsOf(tags: readonly string[] | undefined, limits: ReadonlyMap<string, ResolvedLimit>): ResolvedLimit[] | undefined {
  if (!tags?.length || limits.size === 0) return undefined;
  const found = tags.filter((t, i) => limits.has(t) && tags.indexOf(t) === i).map((t) => limits.get(t)!);
  return found.length ? found : undefined;
}

/** How long a task may wait for its slots: the tightest of its limits' bounds, else the task's own timeout. */
export function slotTimeout(found: readonly ResolvedLimit[], taskTimeout: number | undefined): number | undefined {
  const bounds = found.flatMap((l) => (l.timeoutSeconds === undefined ? [] : [l.timeoutSeconds]));
  return bounds.length ? Math.min(...bounds) : taskTimeout;
}
