/**
 * V8's inspector, in this thread and synchronously: what JavaScript itself cannot ask of a function (where it was
 * defined, the bindings of the module scope it closes over). Used for class instances only, once per class.
 */
import { Session } from "node:inspector";

export interface RemoteObject {
  objectId?: string;
  description?: string;
}
export interface PropertyDescriptor {
  name: string;
  value?: RemoteObject & { value?: unknown };
}
export interface FunctionLocation {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
}

let session: Session | undefined;
const scriptUrls = new Map<string, string>();
const HOLDER = Symbol.for("daskflow.inspectorHolder");
const OBJECT_GROUP = "daskflow-inspector";

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

/** Runs `fn` with the inspector's handle on `value`; the handles made meanwhile are released after. */
export function inspect<T>(value: object, fn: (objectId: string | undefined) => T): T {
  connect();
  const g = globalThis as Record<symbol, unknown>;
  g[HOLDER] = value;
  try {
    const { result } = post<{ result: RemoteObject }>("Runtime.evaluate", { expression: `globalThis[Symbol.for("daskflow.inspectorHolder")]`, objectGroup: OBJECT_GROUP });
    return fn(result.objectId);
  } finally {
    delete g[HOLDER];
    post("Runtime.releaseObjectGroup", { objectGroup: OBJECT_GROUP });
  }
}

/** The object behind a handle, as a JavaScript value (inside `inspect`). */
export function valueOf(objectId: string): unknown {
  const g = globalThis as Record<symbol, unknown>;
  post("Runtime.callFunctionOn", { objectId, functionDeclaration: `function () { globalThis[Symbol.for("daskflow.inspectorHolder")] = this; }`, objectGroup: OBJECT_GROUP });
  const value = g[HOLDER];
  return value;
}

function internal(objectId: string): PropertyDescriptor[] {
  const { internalProperties = [] } = post<{ internalProperties?: PropertyDescriptor[] }>("Runtime.getProperties", { objectId, ownProperties: true });
  return internalProperties;
}

function properties(objectId: string): PropertyDescriptor[] {
  return post<{ result: PropertyDescriptor[] }>("Runtime.getProperties", { objectId, ownProperties: true }).result;
}

export function locationOf(objectId: string): FunctionLocation | undefined {
  return internal(objectId).find((p) => p.name === "[[FunctionLocation]]")?.value?.value as FunctionLocation | undefined;
}

/** The URL of a script; enabling the debugger lists every script loaded so far (the costly part, done rarely). */
export function scriptUrl(scriptId: string): string | undefined {
  if (!scriptUrls.has(scriptId)) {
    post("Debugger.enable");
    post("Debugger.disable");
  }
  return scriptUrls.get(scriptId);
}

/** The handles of the top-level bindings of the module a function was defined in (none outside a module). */
export function moduleBindings(functionId: string): PropertyDescriptor[] {
  const scopes = internal(functionId).find((p) => p.name === "[[Scopes]]")?.value?.objectId;
  const moduleScope = scopes ? properties(scopes).find((s) => s.value?.description === "Module")?.value?.objectId : undefined;
  return moduleScope ? properties(moduleScope) : [];
}
