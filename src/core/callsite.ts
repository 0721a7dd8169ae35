/**
 * Where a `task(...)` or `flow(...)` was defined: the module (so a Dask worker can import it) and the variable it
 * was assigned to (its default display name, since `export const add = task(async (x) => ...)` leaves the
 * function itself nameless).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname } from "node:path";

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

/** The first stack frame outside daskflow's own core, read from the (source-mapped) stack text. */
export function definitionSite(factory: "task" | "flow"): DefinitionSite {
  const stack = new Error().stack?.split("\n").slice(1) ?? [];
  for (const frame of stack) {
    const match = FRAME.exec(frame.trim());
    if (!match) continue;
    const [, rawFile, line] = match;
    const file = rawFile!.startsWith("file://") ? fileURLToPath(rawFile!) : rawFile!;
    if (dirname(file) === OWN_DIR || file.startsWith("node:")) continue;
    const site: DefinitionSite = { moduleUrl: pathToFileURL(file).href };
    const text = lineOf(file, Number(line));
    const assigned = text && new RegExp(`([A-Za-z_$][\\w$]*)\\s*(?::[^=]+)?=\\s*${factory}\\s*[(<]`).exec(text);
    if (assigned) site.variable = assigned[1]!;
    return site;
  }
  return {};
}
