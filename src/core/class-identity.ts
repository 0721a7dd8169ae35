/**
 * Where a class lives, so that its instances can cross to another process and arrive as instances of the same
 * class: the module that defines it (the same identity tasks have, `moduleIdentity`) and the name it has at that
 * module's top level. JavaScript offers no way to ask a function where it was defined, so this asks V8's inspector
 * (in this thread, synchronously): the script of the class's code, and whether the class is a top-level binding
 * of that module. It runs only for class instances, once per class.
 */
import { moduleIdentity } from "./callsite.ts";
import { type FunctionLocation, inspect, locationOf, moduleBindings, scriptUrl } from "./inspector.ts";

export interface ClassIdentity {
  /** The module, as task definitions name theirs. */
  moduleUrl: string;
  /** Its binding at the module's top level (the export name a receiver looks up). */
  name: string;
}

/** Why a class has no identity (the message names it and says what to do). */
export type ClassLookup = ClassIdentity | { problem: string };

const known = new WeakMap<object, ClassLookup>();

/** The modules (outside node_modules) of every class whose instances this process has sent: shipping code to
 * workers brings them too, since a class may live in a module no task comes from (a script's own). */
export const classModules = new Set<string>();

const sameLocation = (a: FunctionLocation | undefined, b: FunctionLocation | undefined) =>
  !!a && !!b && a.scriptId === b.scriptId && a.lineNumber === b.lineNumber && a.columnNumber === b.columnNumber;

function lookup(ctor: abstract new (...args: never[]) => unknown): ClassLookup {
  const name = ctor.name || "(anonymous class)";
  return inspect(ctor, (objectId) => {
    const location = objectId ? locationOf(objectId) : undefined;
    const url = location && scriptUrl(location.scriptId);
    const moduleUrl = url ? moduleIdentity(url) : undefined;
    if (!moduleUrl) return { problem: `class ${name} is not defined in a module file` };
    // Top level: the module's own scope binds the class's name to this very class.
    if (ctor.name) {
      const bound = moduleBindings(objectId!).find((b) => b.name === ctor.name)?.value?.objectId;
      if (bound && sameLocation(locationOf(bound), location)) {
        if (!moduleUrl.includes("/node_modules/")) classModules.add(moduleUrl);
        return { moduleUrl, name: ctor.name };
      }
    }
    return { problem: `class ${name} (${moduleUrl}) is not defined at the top level of its module` };
  });
}

/** The identity of `ctor` (cached): a top-level class of a file module, or why it has none. */
export function classIdentity(ctor: abstract new (...args: never[]) => unknown): ClassLookup {
  let found = known.get(ctor);
  if (!found) {
    try {
      found = lookup(ctor);
    } catch (error) {
      found = { problem: `the location of class ${ctor.name || "(anonymous)"} could not be read (${(error as Error).message})` };
    }
    known.set(ctor, found);
  }
  return found;
}

/** Remembers a class met on the receiving side, so that sending its instances back costs no lookup. */
export function rememberClass(ctor: abstract new (...args: never[]) => unknown, identity: ClassIdentity): void {
  known.set(ctor, identity);
}
