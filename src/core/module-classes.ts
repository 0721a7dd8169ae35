/**
 * Finding a class from its identity (module and top-level name) without waiting for its module to finish
 * evaluating. A module written as a script — tasks, an exported class and `await myFlow()` at its end — never
 * finishes on a worker (flow calls do not run there), and in the flow process not before its flow returns; its
 * import() waits as long. Its classes are bound as soon as their declarations ran, though: they are read from the
 * module's own scope, through a function defined in that module (each task and flow definition lends its function).
 */
import { inspect, moduleBindings, valueOf } from "./inspector.ts";

/**
 * How long a worker or the flow process waits for a module it imports to define what it came for (a task, a
 * class): `DASKFLOW_IMPORT_TIMEOUT_SECONDS`, default 60. Sidecars inherit it from the flow process's environment.
 */
export function importTimeoutMs(): number {
  const seconds = Number(process.env.DASKFLOW_IMPORT_TIMEOUT_SECONDS ?? 60);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 60) * 1000;
}

type Ctor = abstract new (...args: never[]) => unknown;

/** One function defined in each module that defined a task or a flow (its scope chain reaches the module's). */
const anchors = new Map<string, object>();
const found = new Map<string, Ctor>();

/** Called by task() and flow(): `fn` was defined in the module `moduleUrl` (an identity, as callsite.ts names it). */
export function anchorModule(moduleUrl: string | undefined, fn: object): void {
  if (moduleUrl && !anchors.has(moduleUrl)) anchors.set(moduleUrl, fn);
}

/** Whether a function of this module is known here, so its bindings can be read before its import completes. */
export function hasAnchor(moduleUrl: string): boolean {
  return anchors.has(moduleUrl);
}

/**
 * The class bound to `name` at the top level of `moduleUrl`, read from the module's scope; undefined when no
 * function of that module is known here or the binding is not a class yet (declared below where it waits).
 */
export function classInScope(moduleUrl: string, name: string): Ctor | undefined {
  const key = `${moduleUrl}#${name}`;
  const cached = found.get(key);
  if (cached) return cached;
  const anchor = anchors.get(moduleUrl);
  if (!anchor) return undefined;
  let ctor: Ctor | undefined;
  try {
    ctor = inspect(anchor, (objectId) => {
      const bound = objectId ? moduleBindings(objectId).find((b) => b.name === name)?.value : undefined;
      if (!bound?.objectId) return undefined; // not bound, or still in its temporal dead zone
      const value = valueOf(bound.objectId);
      return typeof value === "function" ? (value as Ctor) : undefined;
    });
  } catch {
    return undefined; // the inspector could not read it: the import remains the way
  }
  if (ctor) found.set(key, ctor);
  return ctor;
}
