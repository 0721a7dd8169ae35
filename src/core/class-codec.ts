/**
 * Class instances across processes. V8's serializer copies a class instance as a plain object (prototype and
 * methods gone, `instanceof` false) without a word; so before serializing, the value is searched for instances
 * (cycles included), each is listed with its class's identity (module and top-level name), and the receiver puts
 * the prototype back after importing that module. An instance whose class has no such identity is an error naming
 * the class and where it sits in the value. Values without class instances are serialized exactly as before.
 *
 * Only own enumerable properties travel (what V8 copies); `#private` fields do not.
 */
import { SerializationError } from "./errors.ts";
import { type ClassIdentity, classIdentity, rememberClass } from "./class-identity.ts";
import { isLargeText } from "../transfer/value-bytes.ts";
import { classInScope, hasAnchor, importTimeoutMs } from "./module-classes.ts";

/** Told of each large string (value-bytes.ts isLargeText) a plain object or array holds (`holder[key]`), as
 * the search meets it: where value-bytes.ts may lift it out (one walk over the value for both). */
export type OnLargeString = (holder: Record<string, unknown>, key: string) => void;

/** The key of the wrapper `{ [CLASSES]: [value, table] }` a value with class instances travels in. */
export const CLASSES = "\u0000daskflow.classes";

/** One instance: the object (the same object inside the value, as V8 keeps identity), its class, and for an Error
 * the own fields V8 drops from errors. */
type Entry = [object: object, moduleUrl: string, name: string, path: string, errorFields?: Record<string, unknown>];

/** A class instance whose class a receiver could not find. */
export class UnknownClassError extends SerializationError {}

/** A class whose module did not load, nor bind the class, within the import bound. */
export class ClassModuleTimeoutError extends UnknownClassError {}

const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
/** Prototypes V8 serializes faithfully by itself. */
const NATIVE = new Set<unknown>([
  null,
  Object.prototype,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  SharedArrayBuffer.prototype,
  DataView.prototype,
  Buffer.prototype,
  Number.prototype,
  String.prototype,
  Boolean.prototype,
  Error.prototype,
  TypeError.prototype,
  RangeError.prototype,
  SyntaxError.prototype,
  ReferenceError.prototype,
  EvalError.prototype,
  URIError.prototype,
]);

function isNative(proto: unknown): boolean {
  return NATIVE.has(proto) || Object.getPrototypeOf(proto) === typedArrayPrototype;
}

/**
 * The class instances in `value` as table entries; undefined when there are none (the common, fast case). Paths
 * are built only when `paths` is on: the first pass over a value goes without (most values hold no instances).
 */
function collect(value: unknown, root: string, paths: boolean, onString?: OnLargeString): Entry[] | undefined {
  let entries: Entry[] | undefined;
  const seen = new Set<object>();
  const visit = (v: object, path: string): void => {
    if (seen.has(v)) return;
    seen.add(v);
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      for (const key in v) {
        const item = (v as Record<string, unknown>)[key];
        if (typeof item === "object" && item !== null) visit(item, paths ? `${path}.${key}` : "");
        else if (onString && isLargeText(item)) onString(v as Record<string, unknown>, key);
      }
      return;
    }
    if (proto === Array.prototype) {
      const list = v as unknown[];
      for (let i = 0; i < list.length; i++) {
        const item = list[i];
        if (typeof item === "object" && item !== null) visit(item, paths ? `${path}[${i}]` : "");
        else if (onString && isLargeText(item)) onString(v as Record<string, unknown>, String(i));
      }
      return;
    }
    if (v instanceof Map) {
      for (const [k, item] of v as Map<unknown, unknown>) {
        if (typeof k === "object" && k !== null) visit(k, paths ? `${path}<map key>` : "");
        if (typeof item === "object" && item !== null) visit(item, paths ? `${path}.get(${typeof k === "string" ? JSON.stringify(k) : "…"})` : "");
      }
    } else if (v instanceof Set) {
      let i = 0;
      for (const item of v as Set<unknown>) {
        const n = i++;
        if (typeof item === "object" && item !== null) visit(item, paths ? `${path}<set item ${n}>` : "");
      }
    }
    if (!isNative(proto)) {
      const ctor = (proto as { constructor?: unknown }).constructor;
      const found = typeof ctor === "function" ? classIdentity(ctor as abstract new () => unknown) : { problem: "an object with a foreign prototype" };
      if ("problem" in found) {
        // Errors keep crossing as V8 copies them (a plain Error with message and stack) when their class has no identity.
        if (!(v instanceof Error)) {
          if (!paths) throw NEEDS_PATHS;
          throw new UnknownClassError(
            `${path} is an instance of ${found.problem}, so it would arrive as a plain object. Export the class from the top level of a module (export class ...) or pass plain data.`,
          );
        }
      } else {
        const entry: Entry = [v, found.moduleUrl, found.name, path];
        if (v instanceof Error) entry.push({ ...v, name: v.name });
        (entries ??= []).push(entry);
      }
    } else if (v instanceof Map || v instanceof Set || !(v instanceof Error)) {
      return; // Map, Set, Date, RegExp, typed arrays, buffers: V8 copies them; their contents were visited above
    }
    if (v instanceof Map || v instanceof Set) return;
    for (const key of Object.keys(v)) {
      const item = (v as Record<string, unknown>)[key];
      if (typeof item === "object" && item !== null) visit(item, paths ? `${path}.${key}` : "");
    }
  };
  if (typeof value === "object" && value !== null) visit(value, root);
  return entries;
}

/** Thrown by a pass without paths that met a problem: the pass with paths names where. */
const NEEDS_PATHS = new Error("a class instance without identity: look again with paths");

function collectEntries(value: unknown, root: string, onString?: OnLargeString): Entry[] | undefined {
  try {
    const found = collect(value, root, false, onString);
    return found && collect(value, root, true);
  } catch (error) {
    if (error === NEEDS_PATHS) return collect(value, root, true);
    throw error;
  }
}

/** `value` as it is serialized: itself, or wrapped with the table of its class instances. */
export function withClassTable(value: unknown, root = "$", onString?: OnLargeString): unknown {
  const entries = collectEntries(value, root, onString);
  return entries ? { [CLASSES]: [value, entries] } : value;
}

/** Why `value` cannot cross (a class without identity), with the path from `root`; undefined when it can. */
export function describeClassProblem(value: unknown, root: string): string | undefined {
  try {
    collectEntries(value, root);
    return undefined;
  } catch (error) {
    if (error instanceof UnknownClassError) return error.message;
    throw error;
  }
}

// ---------------------------------------------------------------- receiving

type Namespace = Record<string, unknown>;
/** How this process imports a module by identity (a worker's sidecar imports through its task loader). */
let importer: (url: string) => Promise<unknown> = (url) => import(url);
/** This process, as messages name it. */
let here = "the flow process";
const namespaces = new Map<string, Namespace>();
const importing = new Map<string, Promise<unknown>>();

export function setModuleImporter(fn: (url: string) => Promise<unknown>, where: string): void {
  importer = fn;
  here = where;
}

function isWrapped(decoded: unknown): decoded is { [CLASSES]: [unknown, Entry[]] } {
  return typeof decoded === "object" && decoded !== null && Object.getPrototypeOf(decoded) === Object.prototype && CLASSES in decoded;
}

/** A class is at hand: its module's import completed, or its module's scope binds it already (module-classes.ts). */
const atHand = (url: string, name: string) => namespaces.has(url) || classInScope(url, name) !== undefined;

/** True when `decoded` carries class instances whose classes this process cannot reach yet. */
export function needsImports(decoded: unknown): boolean {
  return isWrapped(decoded) && decoded[CLASSES][1].some(([, url, name]) => !atHand(url, name));
}

/** Makes the classes of the instances in `decoded` reachable: their modules imported, or read from their scopes. */
export async function importClassModules(decoded: unknown): Promise<void> {
  if (!isWrapped(decoded)) return;
  const missing = new Map<string, Set<string>>();
  for (const [, url, name] of decoded[CLASSES][1]) {
    if (!atHand(url, name)) missing.set(url, (missing.get(url) ?? new Set()).add(name));
  }
  await Promise.all([...missing].map(([url, names]) => reach(url, [...names])));
}

/**
 * Waits, at most importTimeoutMs(), until the module's import completes or its scope binds every class named: a
 * module that awaits at its top level (a flow call) completes late or never, but its scope is read as it goes.
 */
async function reach(url: string, names: string[]): Promise<void> {
  let loading = importing.get(url);
  if (!loading) {
    loading = importer(url).then((ns) => namespaces.set(url, ns as Namespace));
    importing.set(url, loading);
    loading.catch(() => importing.delete(url)); // a later value tries again; this one fails with the error
  }
  const bound = importTimeoutMs();
  const deadline = Date.now() + bound;
  for (let step = 5; !namespaces.has(url) && !names.every((name) => classInScope(url, name)); step = Math.min(step * 2, 200)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new ClassModuleTimeoutError(unreachable(url, names, bound / 1000));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([loading, new Promise((resolve) => (timer = setTimeout(resolve, Math.min(step, left))))]).finally(() => clearTimeout(timer));
  }
}

function unreachable(url: string, names: string[], seconds: number): string {
  const classes = names.map((n) => `class ${n}`).join(", ");
  const why = hasAnchor(url)
    ? `its module is still loading and its scope does not bind ${names.length > 1 ? "them" : "it"} yet: declare ${names.length > 1 ? "them" : "it"} above the line where the module waits (a top-level \`await\`, such as \`await myFlow()\`)`
    : "its module has not finished loading (it waits at its top level, as a module ending in `await myFlow()` does) and defines no task or flow through which daskflow could reach its classes earlier: define the class in a module that defines a task, or in one without a top-level `await`";
  return `${classes} of ${url} could not be found in ${here} within ${seconds}s: ${why}.`;
}

/** The value with every listed instance given its class's prototype back (the modules must be imported). */
export function reviveClasses(decoded: unknown): unknown {
  if (!isWrapped(decoded)) return decoded;
  const [value, entries] = decoded[CLASSES];
  for (const [object, moduleUrl, name, path, errorFields] of entries) {
    const ns = namespaces.get(moduleUrl);
    const ctor = ns ? ns[name] : classInScope(moduleUrl, name);
    if (typeof ctor !== "function") {
      throw new UnknownClassError(
        `${path} is an instance of class ${name}, which ${ns ? `${moduleUrl} does not export` : `needs ${moduleUrl}, not imported here`}. Export the class from the top level of its module.`,
      );
    }
    Object.setPrototypeOf(object, (ctor as { prototype: object }).prototype);
    if (errorFields) Object.assign(object, errorFields);
    rememberClass(ctor as abstract new () => unknown, { moduleUrl, name } satisfies ClassIdentity);
  }
  return value;
}
