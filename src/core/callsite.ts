/**
 * Where a `task(...)` or `flow(...)` was defined: the module (so a Dask worker can import it) and the variable it
 * was assigned to (its default display name, since `export const add = task(async (x) => ...)` leaves the
 * function itself nameless).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, isAbsolute } from "node:path";
import { toFlowUrl } from "../dask/shipping/module-map.ts";

export interface DefinitionSite {
  /** file:// URL of the defining module, when it is a file. */
  moduleUrl?: string;
  /** Name of the variable the definition is assigned to, when the source says so on that line. */
  variable?: string;
}

const OWN_DIR = dirname(fileURLToPath(import.meta.url));
const sourceLines = new Map<string, string[] | null>();

function lineOf(file: string, line: number): string | undefined {
  if (!sourceLines.has(file)) {
    try {
      sourceLines.set(file, readFileSync(file, "utf8").split("\n"));
    } catch {
      sourceLines.set(file, null);
    }
  }
  return sourceLines.get(file)?.[line - 1];
}

const FRAME = /\(?((?:file:\/\/)?\/[^()\s]+?):(\d+):(\d+)\)?$/;

/**
 * The first stack frame outside daskflow's own core. The module comes from V8's raw call sites: with source maps
 * on (tsx turns them on), the stack text names the *source* of compiled code (daskflow's own `src/*.ts` behind its
 * `dist/*.js`, or a user's `.ts` behind their `.js`), which is not the module a worker must import. The variable
 * name comes from that source-mapped text, which points at the line as written.
 */
export function definitionSite(factory: "task" | "flow"): DefinitionSite {
  const sites = rawCallSites();
  const mapped: { stack?: string } = {};
  Error.captureStackTrace(mapped, definitionSite);
  const text = mapped.stack?.split("\n").slice(1) ?? [];
  for (const [i, callSite] of sites.entries()) {
    const raw = callSite.getFileName();
    if (!raw || raw.startsWith("node:")) continue;
    const file = raw.startsWith("file://") ? fileURLToPath(raw) : raw;
    if (!isAbsolute(file) || dirname(file) === OWN_DIR) continue;
    // A shipped copy names its module by the flow process's URL, so ids are the same on both sides.
    const site: DefinitionSite = { moduleUrl: toFlowUrl(pathToFileURL(file).href) };
    const match = FRAME.exec(text[i]?.trim() ?? "");
    if (match) {
      const source = match[1]!.startsWith("file://") ? fileURLToPath(match[1]!) : match[1]!;
      const line = lineOf(source, Number(match[2]));
      const assigned = line && new RegExp(`([A-Za-z_$][\\w$]*)\\s*(?::[^=]+)?=\\s*${factory}\\s*[(<]`).exec(line);
      if (assigned) site.variable = assigned[1]!;
    }
    return site;
  }
  return {};
}

/** V8's call sites of the caller's stack, never source-mapped (the frames `definitionSite`'s text also lists). */
function rawCallSites(): NodeJS.CallSite[] {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- saved to be put back as it was, never called here
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = (_error, callSites) => callSites;
  try {
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, definitionSite);
    return (holder.stack as NodeJS.CallSite[] | undefined) ?? [];
  } finally {
    Error.prepareStackTrace = previous;
  }
}
