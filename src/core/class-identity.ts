/**
 * Where a class lives, so that its instances can cross to another process and arrive as instances of the same
 * class: the module that defines it (the same identity tasks have, `moduleIdentity`) and the name it has at that
 * module's top level. JavaScript offers no way to ask a function where it was defined, so this asks V8's inspector
 * (in this thread, synchronously): the script of the class's code, and whether the class is a top-level binding
 * of that module. It runs only for class instances, once per class.
 */
import { Session } from "node:inspector";
import { moduleIdentity } from "./callsite.ts";

export interface ClassIdentity {
  /** The module, as task definitions name theirs. */
  moduleUrl: string;
  /** Its binding at the module's top level (the export name a receiver looks up). */
  name: string;
}

/** Why a class has no identity (the message names it and says what to do). */
export type ClassLookup = ClassIdentity | { problem: string };

interface RemoteObject {
  objectId?: string;
  description?: string;
}
interface PropertyDescriptor {
  name: string;
  value?: RemoteObject & { value?: unknown };
}
interface FunctionLocation {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
}

const known = new WeakMap<object, ClassLookup>();
let session: Session | undefined;
const scriptUrls = new Map<string, string>();

function post<T>(method: string, params?: object): T {
  let result: T | undefined;
  let failure: Error | null = null;
  // An in-thread session answers synchronously, inside post().
  session!.post(method, params as never, (error, value) => {
    failure = error;
    result = value as T;
  });
  if (failure) throw failure as Error;
  return result as T;
}

function connect(): void {
  if (session) return;
  session = new Session();
  session.connect();
  session.on("Debugger.scriptParsed", (m) => scriptUrls.set(m.params.scriptId, m.params.url));
}

/** The URL of a script; enabling the debugger lists every script loaded so far (the costly part, done rarely). */
function scriptUrl(scriptId: string): string | undefined {
  if (!scriptUrls.has(scriptId)) {
    post("Debugger.enable");
    post("Debugger.disable");
  }
  return scriptUrls.get(scriptId);
}

const HOLDER = Symbol.for("daskflow.classLookup");

function internal(objectId: string): PropertyDescriptor[] {
  const { internalProperties = [] } = post<{ internalProperties?: PropertyDescriptor[] }>("Runtime.getProperties", { objectId, ownProperties: true });
  return internalProperties;
}

function locationOf(objectId: string): FunctionLocation | undefined {
  return internal(objectId).find((p) => p.name === "[[FunctionLocation]]")?.value?.value as FunctionLocation | undefined;
}

const sameLocation = (a: FunctionLocation | undefined, b: FunctionLocation | undefined) =>
  !!a && !!b && a.scriptId === b.scriptId && a.lineNumber === b.lineNumber && a.columnNumber === b.columnNumber;

function lookup(ctor: abstract new (...args: never[]) => unknown): ClassLookup {
  const name = ctor.name || "(anonymous class)";
  connect();
  const g = globalThis as Record<symbol, unknown>;
  g[HOLDER] = ctor;
  const objectGroup = "daskflow-class-lookup";
  try {
    const { result } = post<{ result: RemoteObject }>("Runtime.evaluate", { expression: `globalThis[Symbol.for("daskflow.classLookup")]`, objectGroup });
    const location = result.objectId ? locationOf(result.objectId) : undefined;
    const url = location && scriptUrl(location.scriptId);
    const moduleUrl = url ? moduleIdentity(url) : undefined;
    if (!moduleUrl) return { problem: `class ${name} is not defined in a module file` };
    // Top level: the module's own scope binds the class's name to this very class.
    const scopes = internal(result.objectId!).find((p) => p.name === "[[Scopes]]")?.value?.objectId;
    const scopeList = scopes ? post<{ result: PropertyDescriptor[] }>("Runtime.getProperties", { objectId: scopes, ownProperties: true }).result : [];
    const moduleScope = scopeList.find((s) => s.value?.description === "Module")?.value?.objectId;
    if (moduleScope && ctor.name) {
      const bindings = post<{ result: PropertyDescriptor[] }>("Runtime.getProperties", { objectId: moduleScope, ownProperties: true }).result;
      const bound = bindings.find((b) => b.name === ctor.name)?.value?.objectId;
      if (bound && sameLocation(locationOf(bound), location)) return { moduleUrl, name: ctor.name };
    }
    return { problem: `class ${name} (${moduleUrl}) is not defined at the top level of its module` };
  } finally {
    delete g[HOLDER];
    post("Runtime.releaseObjectGroup", { objectGroup });
  }
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
