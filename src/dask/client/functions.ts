/**
 * Plain TypeScript functions given to a DaskClient (Prefect's `client.submit(func, ...)`): shipped the way a Bag's
 * functions are (by source when self-contained, else by reference to their export), and run in a worker sidecar as
 * runs of one daskflow task, so their arguments (futures among them), errors and cancelling work as for tasks.
 */
import { InvalidOptionError } from "../../core/errors.ts";
import { task } from "../../core/task.ts";
import type { Futurable } from "../../core/types.ts";
import { KEEP, mapDeep } from "../../core/walk.ts";
import type { Unmapped } from "../../core/wrappers.ts";
import { shipFunction } from "../collections/bag/functions.ts";
import type { FnRef } from "../collections/bag/plan.ts";
import { type DaskFuture, isDaskFuture } from "./future.ts";

/** `fn(...args)` in a sidecar; futures in `args` are resolved first, as a task's are. */
export const runFunction = task({ name: "function" }, async (fn: FnRef, args: unknown[]) => {
  // Imported here, in the sidecar only: the worker's loader module sets up worker-side imports as it loads.
  const { loadFunction } = await import("../../worker/bag/functions.ts");
  return (await loadFunction(fn))(...args);
});

/** An argument of a plain function: a value, a task's future, or the DaskFuture of another function's run. */
type FunctionArg<T> = Futurable<T> | DaskFuture<T>;
export type FunctionArgs<A extends readonly unknown[]> = { [K in keyof A]: FunctionArg<A[K]> };
export type FunctionMapArgs<A extends readonly unknown[]> = {
  [K in keyof A]: Iterable<FunctionArg<A[K]>> | Unmapped<FunctionArg<A[K]>> | FunctionArg<A[K]>;
};

const PASS_IN = {
  submit: (v: string) => `Pass data in as arguments instead, e.g. client.submit((x, ${v}) => ..., x, ${v})`,
  map: (v: string) => `Pass data in as arguments instead, e.g. client.map((x, ${v}) => ..., xs, unmapped(${v}))`,
};

/** What `fn` runs as: its shipped form and the task variant named after it (how logs and Dask keys show it). An
 * outer variable it cannot take along is an error here, where it is given. */
export function functionCall(what: "submit" | "map", fn: (...args: never[]) => unknown) {
  const ref = shipFunction(`DaskClient.${what}()`, fn, PASS_IN[what]);
  const name = fn.name || "lambda";
  return { ref, name, task: runFunction.withOptions({ name }) };
}

/** A plain function's arguments: DaskFutures of other functions' runs (at any depth) stand for those runs, which
 * become upstreams as task futures do. Other DaskFutures hold data for Python calls only. */
export function withRuns(what: string, args: unknown[]): unknown[] {
  return mapDeep(args, (v) => {
    if (!isDaskFuture(v)) return KEEP;
    if (!v.run) {
      throw new InvalidOptionError(
        `DaskClient.${what}(): ${String(v)} is data held for Python calls; a TypeScript function takes plain data and the futures of tasks and functions. Pass \`await future\` instead.`,
      );
    }
    v.passOn();
    return v.run;
  }) as unknown[];
}
