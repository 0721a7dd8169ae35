/**
 * Project files as the worker imports them: TypeScript (and JSX) compiled by esbuild one file at a time (no bundling:
 * every import stays an import, so one output module per source module and a module shared by several tasks stays
 * one module), with imports of project files pointed at their shipped names (module-map.ts). JavaScript files whose
 * imports need no rewriting are shipped as they are.
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Format } from "esbuild";
import { ESBUILD_NODE_TARGET } from "../../node-support.ts";
import { isCompiled, shippedPath } from "./module-map.ts";
import { type Edge, esbuild, tsconfig } from "./trace.ts";

export interface EmittedFile {
  /** The source file (absolute). */
  source: string;
  /** Path inside the code root. */
  path: string;
  data: Uint8Array;
}

const packageTypes = new Map<string, string | undefined>();

/** The `package.json` that decides how Node reads files of this folder, and its `type`. */
export function nearestPackageJson(dir: string): { path: string | undefined; type: string | undefined } {
  for (let d = dir; ; d = dirname(d)) {
    const path = join(d, "package.json");
    if (!packageTypes.has(path)) {
      try {
        packageTypes.set(path, (JSON.parse(readFileSync(path, "utf8")) as { type?: string }).type ?? "commonjs");
      } catch {
        packageTypes.set(path, undefined);
      }
    }
    const type = packageTypes.get(path);
    if (type !== undefined) return { path, type };
    if (dirname(d) === d) return { path: undefined, type: undefined };
  }
}

function formatOf(file: string): Format {
  if (/\.(mts|mjs)$/.test(file)) return "esm";
  if (/\.(cts|cjs)$/.test(file)) return "cjs";
  return nearestPackageJson(dirname(file)).type === "module" ? "esm" : "cjs";
}

/** A relative specifier from one shipped file to another. */
function specifierBetween(fromSource: string, toSource: string): string {
  const rel = relative(dirname(shippedPath(fromSource)), shippedPath(toSource));
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** Whether a file must go through esbuild: compiled sources, and JS files importing project files by other names. */
export function needsEmit(file: string, edges: ReadonlyMap<string, Edge> | undefined): boolean {
  if (isCompiled(file)) return true;
  if (!/\.(js|mjs|cjs)$/.test(file)) return false; // JSON and other files are shipped as they are
  for (const [spec, edge] of edges ?? []) {
    if (edge.inPackage) continue;
    if (!spec.startsWith(".") || isCompiled(edge.path)) return true;
    if (join(dirname(file), spec) !== edge.path) return true; // extensionless or a directory: tsx resolved it
  }
  return false;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Imports of project files pointed at their shipped names. esbuild prints every import specifier as a double-quoted
 * string right after `from`, `import` or `import(`/`require(`, so the specifiers as written (from the trace) are
 * found in those places only.
 */
function rewriteImports(code: string, source: string, edges: ReadonlyMap<string, Edge> | undefined): string {
  for (const [spec, edge] of edges ?? []) {
    if (edge.inPackage) continue;
    const target = specifierBetween(source, edge.path);
    if (target === spec) continue;
    const quoted = escape(JSON.stringify(spec));
    code = code.replace(new RegExp(`(\\bfrom\\s*|\\bimport\\s*|\\b(?:import|require)\\s*\\(\\s*)${quoted}`, "g"), (_m, before: string) => `${before}${JSON.stringify(target)}`);
  }
  return code;
}

/** The compiled code with its source map inline, naming the source by its path on the flow machine. Import rewriting
 * changes only string literals within a line, so the map's lines stay right. */
function withSourceMap(code: string, map: string | undefined, source: string): string {
  if (map === undefined) return code;
  const parsed = JSON.parse(map) as { sources: string[]; sourceRoot?: string };
  parsed.sources = [pathToFileURL(source).href];
  delete parsed.sourceRoot;
  const body = code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
  return `${body}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(parsed)).toString("base64")}\n`;
}

/** Compiles (esbuild, one output per file, imports left as imports) and points project imports at shipped names. */
export async function emit(files: readonly string[], edges: ReadonlyMap<string, ReadonlyMap<string, Edge>>): Promise<EmittedFile[]> {
  const { build } = await esbuild();
  const byFormat = new Map<Format, string[]>();
  for (const file of files) {
    const format = formatOf(file);
    byFormat.set(format, [...(byFormat.get(format) ?? []), file]);
  }
  const out: EmittedFile[] = [];
  for (const [format, group] of byFormat) {
    const result = await build({
      entryPoints: group.map((file) => ({ in: file, out: shippedPath(file).replace(/\.[cm]?js$/, "") })),
      outdir: "/",
      bundle: false,
      write: false,
      metafile: true,
      platform: "node",
      format,
      target: ESBUILD_NODE_TARGET, // any supported Node may run it on a worker
      // A stack from a worker names the flow machine's file and line (a sidecar maps it: sidecar.ts), not the shipped
      // copy's compiled line under the worker's cache.
      sourcemap: "external",
      sourcesContent: false,
      logLevel: "silent",
      ...tsconfig(),
    });
    const outputs = result.metafile.outputs;
    const maps = new Map(result.outputFiles.filter((f) => f.path.endsWith(".map")).map((f) => [f.path.slice(0, -4), f.text]));
    for (const file of result.outputFiles) {
      const entry = outputs[relative(process.cwd(), file.path)]?.entryPoint;
      if (!entry) continue;
      const source = resolve(process.cwd(), entry);
      const code = withSourceMap(rewriteImports(file.text, source, edges.get(source)), maps.get(file.path), source);
      out.push({ source, path: shippedPath(source), data: Buffer.from(code) });
    }
  }
  return out;
}
