/** `annotate(annotations, fn)`: Dask annotations for every task submitted inside `fn`, sync or async, nested. */
import { withAnnotations } from "../core/context.ts";
import { validateOptions } from "../core/options.ts";
import type { Annotations } from "../core/task-runner.ts";

const resources = (v: unknown) =>
  typeof v === "object" && v !== null && Object.values(v).every((n) => typeof n === "number" && n >= 0)
    ? undefined
    : `must map resource names to amounts >= 0, e.g. { GPU: 1 }`;

export function annotate<T>(annotations: Annotations, fn: () => T): T {
  validateOptions<Annotations>("annotate()", annotations, {
    resources,
    priority: (v) => (typeof v === "number" && Number.isFinite(v) ? undefined : "must be a number"),
    retries: (v) => (Number.isInteger(v) && (v as number) >= 0 ? undefined : "must be a whole number >= 0"),
    workers: (v) => (typeof v === "string" || (Array.isArray(v) && v.every((w) => typeof w === "string")) ? undefined : "must be a worker address or a list of them"),
    allowOtherWorkers: (v) => (typeof v === "boolean" ? undefined : "must be true or false"),
  });
  return withAnnotations(annotations, fn);
}
