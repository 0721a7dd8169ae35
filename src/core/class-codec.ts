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
import { isLargeText } from "./value-bytes.ts";

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
const namespaces = new Map<string, Namespace>();

export function setModuleImporter(fn: (url: string) => Promise<unknown>): void {
  importer = fn;
}

function isWrapped(decoded: unknown): decoded is { [CLASSES]: [unknown, Entry[]] } {
  return typeof decoded === "object" && decoded !== null && Object.getPrototypeOf(decoded) === Object.prototype && CLASSES in decoded;
}

/** True when `decoded` carries class instances whose modules this process has not imported yet. */
export function needsImports(decoded: unknown): boolean {
  return isWrapped(decoded) && decoded[CLASSES][1].some(([, url]) => !namespaces.has(url));
}

/** Imports the modules the class instances in `decoded` need (once each). */
export async function importClassModules(decoded: unknown): Promise<void> {
  if (!isWrapped(decoded)) return;
  const urls = new Set(decoded[CLASSES][1].map(([, url]) => url).filter((url) => !namespaces.has(url)));
  await Promise.all(
    [...urls].map(async (url) => {
      namespaces.set(url, (await importer(url)) as Namespace);
    }),
  );
}

/** The value with every listed instance given its class's prototype back (the modules must be imported). */
export function reviveClasses(decoded: unknown): unknown {
  if (!isWrapped(decoded)) return decoded;
  const [value, entries] = decoded[CLASSES];
  for (const [object, moduleUrl, name, path, errorFields] of entries) {
    const ns = namespaces.get(moduleUrl);
    const ctor = ns?.[name];
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
