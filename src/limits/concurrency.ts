/**
 * `concurrency(name, { occupy, timeoutSeconds }, fn)`: runs `fn` holding `occupy` slots of the concurrency limit
 * `name`, the same slots tagged tasks take. In a task on Dask (and in a flow with a DaskTaskRunner) they are leases of
 * the limit's Dask Semaphore; with the ConcurrentTaskRunner, slots in this process.
 */
import { currentScope } from "../core/context.ts";
import { InvalidOptionError } from "../core/errors.ts";
import { validateOptions } from "../core/options.ts";
import { slotsOf } from "./slots.ts";

export interface ConcurrencyOptions {
  /** Slots to hold (default 1). */
  occupy?: number;
  /** Fail with a TaskTimeoutError naming the limit when the slots are not had within this many seconds. */
  timeoutSeconds?: number;
}

export async function concurrency<T>(name: string, options: ConcurrencyOptions, fn: () => T): Promise<Awaited<T>>;
export async function concurrency<T>(name: string, fn: () => T): Promise<Awaited<T>>;
export async function concurrency<T>(name: string, optionsOrFn: ConcurrencyOptions | (() => T), maybeFn?: () => T): Promise<Awaited<T>> {
  const [rawOptions, fn] = typeof optionsOrFn === "function" ? [{}, optionsOrFn] : [optionsOrFn, maybeFn];
  if (typeof name !== "string" || name === "") throw new InvalidOptionError("concurrency(): expected a limit name, as concurrency(name, fn) or concurrency(name, options, fn).");
  if (typeof fn !== "function") throw new InvalidOptionError("concurrency(): expected a function, as concurrency(name, fn) or concurrency(name, options, fn).");
  const options = validateOptions<ConcurrencyOptions>("concurrency()", rawOptions, {
    occupy: (v) => (Number.isInteger(v) && (v as number) >= 1 ? undefined : `must be a whole number >= 1, got ${String(v)}`),
    timeoutSeconds: (v) => (typeof v === "number" && v > 0 && Number.isFinite(v) ? undefined : `must be a number > 0, got ${String(v)}`),
  });
  const slots = slotsOf(currentScope()?.runner);
  if (!slots) {
    throw new InvalidOptionError(`concurrency('${name}'): call it inside a flow or task run whose task runner has concurrencyLimits (DaskTaskRunner or ConcurrentTaskRunner).`);
  }
  const release = await slots.acquire(name, options.occupy ?? 1, options.timeoutSeconds);
  try {
    return await fn();
  } finally {
    await release();
  }
}
