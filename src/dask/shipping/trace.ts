/**
 * The import graph of the modules to ship, traced by esbuild's resolver (the one tsx uses, so TypeScript paths,
 * extensionless and `.js`-for-`.ts` imports resolve as they did in the flow process): every project file reached,
 * each import edge with what it resolved to, and the npm packages reached. Packages are not traced inside: they are
 * shipped as they are installed (packages.ts), so Node resolves their files on the worker as it did here.
 */
import { isBuiltin } from "node:module";
import { resolve } from "node:path";
import { ESBUILD_NODE_TARGET } from "../../node-support.ts";
import { ShippingError } from "./errors.ts";

export interface Edge {
  /** The resolved file. */
  path: string;
  /** A file of an npm package (its directory is shipped whole) rather than a project file. */
  inPackage: boolean;
}

export interface Trace {
  /** Project files reached, entries included (absolute, real paths). */
  files: Set<string>;
  /** importer → specifier as written → where it resolved. */
  edges: Map<string, Map<string, Edge>>;
  /** Package imports as seen from a project file: [importer, specifier]. */
  packageImports: Array<[string, string]>;
}

export const NODE_MODULES = /[/\\]node_modules[/\\]/;

/** A tsconfig the flow process's tsx uses (TSX_TSCONFIG_PATH), so paths aliases resolve here the same way. */
export function tsconfig(): { tsconfig?: string } {
  const path = process.env.TSX_TSCONFIG_PATH;
  return path ? { tsconfig: path } : {};
}

/** Loaded only when building: sidecars import this module (through the runner) but never build. */
export const esbuild = () => import("esbuild");

/**
 * One esbuild pass with packages external: its metafile lists every project file reached and, for each, its imports
 * as written and what they resolved to (no plugin: a plugin's callbacks cost a round trip to this process per import).
 * `flowOnly`: a folder whose imports of esbuild are not followed (daskflow's own: it builds in the flow process only,
 * and esbuild is the largest part of its dependencies).
 */
export async function traceImports(entries: readonly string[], flowOnly?: string): Promise<Trace> {
  const { build } = await esbuild();
  const trace: Trace = { files: new Set(), edges: new Map(), packageImports: [] };
  let result: Awaited<ReturnType<typeof build<{ metafile: true; write: false }>>>;
  try {
    result = await build({
      entryPoints: [...entries],
      outdir: "/", // nothing is written
      bundle: true,
      packages: "external",
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      target: ESBUILD_NODE_TARGET, // any supported Node may run it on a worker
      logLevel: "silent",
      loader: { ".node": "copy" },
      ...tsconfig(),
    });
  } catch (error) {
    const errors = (error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors ?? [];
    const lines = errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text));
    throw new ShippingError(`Cannot ship the flow's code to the Dask workers: ${lines.length ? lines.join("; ") : (error as Error).message}`);
  }
  const cwd = process.cwd();
  for (const [input, info] of Object.entries(result.metafile.inputs)) {
    if (input.includes(":")) continue; // esbuild's own namespaces
    const importer = resolve(cwd, input);
    if (importer.endsWith(".node")) {
      throw new ShippingError(`The native addon ${importer} is imported by the flow's code; it cannot be shipped to Dask workers (it is built for one platform and Node version). Install it on the workers and run with shipCode: false, with the project at the same path there.`);
    }
    trace.files.add(importer);
    const edges = new Map<string, Edge>();
    for (const imp of info.imports) {
      if (imp.external) {
        if (isBuiltin(imp.path) || imp.path.startsWith("node:")) continue;
        if (flowOnly && imp.path === "esbuild" && importer.startsWith(flowOnly + "/")) continue;
        if (/^(\.|\/|file:|data:|https?:)/.test(imp.path)) continue; // left external by esbuild (e.g. a dynamic path)
        edges.set(imp.path, { path: imp.path, inPackage: true });
        trace.packageImports.push([importer, imp.path]);
      } else {
        edges.set(imp.original ?? imp.path, { path: resolve(cwd, imp.path), inPackage: false });
      }
    }
    trace.edges.set(importer, edges);
  }
  return trace;
}
