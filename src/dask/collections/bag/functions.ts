/**
 * Turning the functions given to a Bag (or a DaskClient) into what the worker sidecars run: the function's source
 * when it is self-contained, else (it uses imports or module variables) a reference to where it is exported at a
 * module's top level. Anything else is an error where the function is given, naming the outer variable and saying
 * how to pass the data in.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidOptionError } from "../../../core/errors.ts";
import { referencedModules } from "../../shipping/referenced-modules.ts";
import { freeVariables } from "./free-variables.ts";
import type { FnRef } from "./plan.ts";
import { moduleOf } from "./reference.ts";

const shipped = new WeakMap<Function, FnRef>();

/** `passIn(variable)`: how the data of an outer variable can reach the function instead, e.g. as an argument. */
export function shipFunction(what: string, fn: unknown, passIn: (variable: string) => string): FnRef {
  if (typeof fn !== "function") throw new InvalidOptionError(`${what}: expected a function, got ${fn === null ? "null" : typeof fn}.`);
  const known = shipped.get(fn);
  if (known) return known;
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}$/.test(source)) {
    throw new InvalidOptionError(`${what}: ${fn.name || "the function"} is a built-in or bound function, which has no source to ship; wrap it: (x) => ${fn.name || "f"}(x).`);
  }
  const parsed = freeVariables(source);
  let ref: FnRef | undefined;
  if (parsed.ok && parsed.free.length === 0) ref = { source, name: fn.name };
  else ref = byReference(what, fn);
  if (!ref) {
    const name = fn.name ? `'${fn.name}'` : "the function";
    if (!parsed.ok) throw new InvalidOptionError(`${what}: ${name} cannot be shipped to the workers: ${parsed.reason}.`);
    const vars = parsed.free.map((v) => `\`${v}\``).join(", ");
    throw new InvalidOptionError(
      `${what}: ${name} refers to ${vars}, from outside the function. It is shipped to the workers by its source, where outer variables do not exist. ` +
        `${passIn(parsed.free[0]!)}, or export the function from the top level of a module (it may then use imports and module variables; it is passed by reference).`,
    );
  }
  shipped.set(fn, ref);
  return ref;
}

/** The script Node was started with: a worker cannot import it to the end when it runs a flow at its top level. */
function entryUrl(): string | undefined {
  const script = process.argv[1];
  return script ? pathToFileURL(resolve(script)).href : undefined;
}

/** A function exported under its own name at the top level of a module file. */
function byReference(what: string, fn: Function): FnRef | undefined {
  if (!fn.name) return undefined;
  const url = moduleOf(fn);
  if (!url || !url.startsWith("file:")) return undefined;
  if (url === entryUrl()) {
    throw new InvalidOptionError(
      `${what}: '${fn.name}' uses variables outside itself, so it is passed by reference, but it is defined in the script you started (${url}), which a worker cannot import to its end (its top level runs the flow). Move '${fn.name}' to a module of its own, export it there and import it.`,
    );
  }
  referencedModules.add(url);
  return { module: url, export: fn.name };
}
