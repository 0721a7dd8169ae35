/**
 * Project files as the worker imports them: TypeScript (and JSX) compiled by esbuild one file at a time — every
 * import left as an import, so one output module per source module and a module shared by several tasks stays one
 * module — with imports of project files rewritten to the compiled names (module-map.ts). JavaScript files whose
 * imports need no rewriting are shipped as they are.
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { Format, Plugin } from "esbuild";
import { isCompiled, shippedPath } from "./module-map.ts";
import { type Edge, esbuild } from "./trace.ts";

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

export async function emit(files: readonly string[], edges: ReadonlyMap<string, ReadonlyMap<string, Edge>>): Promise<EmittedFile[]> {
  const { build } = await esbuild();
  const byFormat = new Map<Format, string[]>();
  for (const file of files) {
    const format = formatOf(file);
    byFormat.set(format, [...(byFormat.get(format) ?? []), file]);
  }
  const rewrite: Plugin = {
    name: "daskflow-rewrite",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return undefined;
        const edge = edges.get(args.importer)?.get(args.path);
        if (!edge || edge.inPackage) return { path: args.path, external: true };
        return { path: specifierBetween(args.importer, edge.path), external: true };
      });
    },
  };
  const out: EmittedFile[] = [];
  for (const [format, group] of byFormat) {
    const result = await build({
      entryPoints: group.map((file) => ({ in: file, out: shippedPath(file).replace(/\.[cm]?js$/, "") })),
      outdir: "/",
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format,
      target: "node20",
      logLevel: "silent",
      plugins: [rewrite],
      ...(process.env.TSX_TSCONFIG_PATH ? { tsconfig: process.env.TSX_TSCONFIG_PATH } : {}),
    });
    const outputs = result.metafile.outputs;
    for (const file of result.outputFiles) {
      const entry = outputs[relative(process.cwd(), file.path)]?.entryPoint;
      if (!entry) continue;
      const source = resolve(process.cwd(), entry);
      out.push({ source, path: shippedPath(source), data: file.contents });
    }
  }
  return out;
}
