/**
 * The module a function was defined in, from V8 itself (the inspector's [[FunctionLocation]] and the script URL it
 * belongs to): how a function exported at a module's top level is passed by reference. Synchronous (an in-thread
 * inspector session answers at once), and only used for functions that cannot travel by source.
 */
import { Session } from "node:inspector";

const HOLDER = "__daskflowFunctionLookup";

function post<T>(session: Session, method: string, params: object = {}): T {
  let result: unknown;
  let failure = null as Error | null;
  session.post(method, params, (error: Error | null, value?: unknown) => {
    failure = error;
    result = value;
  });
  if (failure) throw failure;
  return result as T;
}

type Internal = { name: string; value?: { value?: { scriptId: string }; objectId?: string } };

/** Defined at a module's top level: its scope chain holds no function or block scope of its own. */
function atTopLevel(session: Session, internals: Internal[]): boolean {
  const scopes = internals.find((p) => p.name === "[[Scopes]]")?.value?.objectId;
  if (!scopes) return false;
  const list = post<{ result: Array<{ name: string; value?: { description?: string } }> }>(session, "Runtime.getProperties", { objectId: scopes, ownProperties: true });
  return list.result
    .filter((p) => /^\d+$/.test(p.name))
    .every((p) => /^(Module|Global|Script)\b/.test(p.value?.description ?? ""));
}

/** The URL of the module that defines `fn`, or undefined when V8 does not tell (native or bound functions). */
export function moduleOf(fn: Function): string | undefined {
  const session = new Session();
  session.connect();
  const g = globalThis as Record<string, unknown>;
  try {
    g[HOLDER] = fn;
    const { result } = post<{ result: { objectId?: string } }>(session, "Runtime.evaluate", { expression: `globalThis.${HOLDER}` });
    if (!result.objectId) return undefined;
    const props = post<{ internalProperties?: Internal[] }>(session, "Runtime.getProperties", {
      objectId: result.objectId,
      ownProperties: true,
    });
    const scriptId = props.internalProperties?.find((p) => p.name === "[[FunctionLocation]]")?.value?.value?.scriptId;
    if (!scriptId || !atTopLevel(session, props.internalProperties ?? [])) return undefined;
    // Enabling the debugger replays every parsed script's URL; it is disabled again at once.
    let url: string | undefined;
    session.on("Debugger.scriptParsed", (event: { params: { scriptId: string; url: string } }) => {
      if (event.params.scriptId === scriptId) url = event.params.url;
    });
    post(session, "Debugger.enable");
    post(session, "Debugger.disable");
    return url && /^(file|data|node):/.test(url) ? url : undefined;
  } finally {
    delete g[HOLDER];
    session.disconnect();
  }
}
