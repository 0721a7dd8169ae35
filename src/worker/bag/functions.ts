/** The functions of a Bag (or given to a DaskClient), made callable in the sidecar: compiled from source once, or
 * imported by reference. */
import { DaskflowError } from "../../core/errors.ts";
import type { FnRef } from "../../dask/collections/bag/plan.ts";
import { importOnce } from "../load-task.ts";

type Fn = (...args: unknown[]) => unknown;

const compiled = new Map<string, Fn>();
const IMPORT_TIMEOUT_MS = 60_000;

/** esbuild's keepNames helper, which transpiled sources may call (free-variables.ts lets it through). */
const keepName = (fn: unknown) => fn;

export async function loadFunction(ref: FnRef): Promise<Fn> {
  if ("source" in ref) {
    let fn = compiled.get(ref.source);
    if (!fn) {
      // The user's own JavaScript function, shipped by source (checked on the flow side to refer to nothing
      // outside itself): made a function again here, as it was there.
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      const make = new Function("__name", `"use strict"; return (${ref.source});`) as (name: typeof keepName) => Fn;
      fn = make(keepName);
      compiled.set(ref.source, fn);
    }
    return fn;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DaskflowError(`Importing ${ref.module} for the function '${ref.export}' did not finish within ${IMPORT_TIMEOUT_MS / 1000}s on the worker; a module whose top level waits (e.g. \`await myFlow()\`) cannot be imported to its end. Move the function to a module that only defines things.`)),
      IMPORT_TIMEOUT_MS,
    );
  });
  const ns = (await Promise.race([importOnce(ref.module), late]).finally(() => clearTimeout(timer))) as Record<string, unknown>;
  const fn = ns[ref.export];
  if (typeof fn !== "function") {
    throw new DaskflowError(`The function '${ref.export}' is not exported from ${ref.module} on the worker. Export it at the top level of that module under its own name.`);
  }
  return fn as Fn;
}
