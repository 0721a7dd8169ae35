/**
 * What is not shipped, detected where it can be from a project module's (compiled) code: environment variables the
 * flow process has set, files read next to a module, and module-level variables changed at run time (each worker
 * evaluates modules fresh). Heuristics on esbuild's output, which prints top-level statements at column 0, nested
 * ones indented, and drops comments and types; each finding is a warning, never an error.
 */
import { relative } from "node:path";

export interface ScannedSource {
  source: string;
  code: string;
}

const ENV_READ = /process\.env(?:\.([A-Za-z_$][\w$]*)|\[\s*["'`]([^"'`]+)["'`]\s*\])/g;
const FS_READ = /\b(readFileSync|readFile|createReadStream|readdirSync|readdir|openSync|opendir)\s*\(/;
const HERE = /import\.meta\.(url|dirname|filename)|\b__dirname\b|\b__filename\b/;
const TOP_LEVEL_VAR = /^(?:let|var)\s+([^;=]+?)(?:=|;|$)/gm;

const where = (file: string) => relative(process.cwd(), file) || file;

function mutated(code: string, name: string): boolean {
  const n = name.replace(/\$/g, "\\$");
  const assign = new RegExp(`^[ \\t]+(?:.*[^\\w$.])?${n}\\s*(?:[-+*/%&|^]|\\*\\*|<<|>>>?|&&|\\|\\||\\?\\?)?=(?!=)|${n}\\s*(?:\\+\\+|--)|(?:\\+\\+|--)\\s*${n}\\b`, "m");
  return assign.test(code);
}

export function scanHazards(sources: readonly ScannedSource[], envOption: ReadonlySet<string>): string[] {
  const warnings: string[] = [];
  const envNames = new Map<string, Set<string>>();
  for (const { source, code } of sources) {
    for (const m of code.matchAll(ENV_READ)) {
      const name = m[1] ?? m[2]!;
      if (envOption.has(name) || name.startsWith("DASKFLOW_") || process.env[name] === undefined) continue;
      envNames.set(name, (envNames.get(name) ?? new Set()).add(where(source)));
    }
    if (FS_READ.test(code) && HERE.test(code)) {
      warnings.push(
        `${where(source)} reads files by a path next to the module at run time: files are not shipped to the Dask workers, only modules; a task there reads the worker's own disk. Pass the data as an argument, or put it where every worker can read it.`,
      );
    }
    const changed: string[] = [];
    for (const m of code.matchAll(TOP_LEVEL_VAR)) {
      for (const name of m[1]!.split(",").map((s) => s.trim().split(/\s/)[0]!).filter((s) => /^[A-Za-z_$][\w$]*$/.test(s))) {
        if (mutated(code, name)) changed.push(name);
      }
    }
    if (changed.length) {
      warnings.push(
        `${where(source)}: module-level ${changed.length > 1 ? "variables" : "variable"} ${changed.map((c) => `'${c}'`).join(", ")} ${changed.length > 1 ? "are" : "is"} changed at run time. Each Dask worker evaluates the module fresh: values set in the flow process do not reach tasks there, and a task's changes stay in its own sidecar.`,
      );
    }
  }
  if (envNames.size) {
    const names = [...envNames.keys()];
    const modules = [...new Set([...envNames.values()].flatMap((s) => [...s]))];
    warnings.push(
      `${modules.join(", ")} ${modules.length > 1 ? "read" : "reads"} the environment ${names.length > 1 ? "variables" : "variable"} ${names.join(", ")}, set in this process: environment variables are not shipped to the Dask workers. ` +
        `Pass them with new DaskTaskRunner({ env: { ${names.map((n) => `${n}: process.env.${n}!`).join(", ")} } }) if tasks need them.`,
    );
  }
  return warnings;
}
