/**
 * The import graph of the modules to ship, traced by esbuild's resolver (the one tsx uses, so TypeScript paths,
 * extensionless and `.js`-for-`.ts` imports resolve as they did in the flow process): every project file reached,
 * each import edge with what it resolved to, and the npm packages reached. Packages are not traced inside: they are
 * shipped as they are installed (packages.ts), so Node resolves their files on the worker as it did here.
 */
import { isBuiltin } from "node:module";
import { resolve } from "node:path";
import type { Plugin } from "esbuild";
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

const RESOLVING = Symbol("daskflow-resolving");
export const NODE_MODULES = /[/\\]node_modules[/\\]/;

/** A tsconfig the flow process's tsx uses (TSX_TSCONFIG_PATH), so paths aliases resolve here the same way. */
function tsconfig(): { tsconfig?: string } {
  const path = process.env.TSX_TSCONFIG_PATH;
  return path ? { tsconfig: path } : {};
}

/** Loaded only when building: sidecars import this module (through the runner) but never build. */
export const esbuild = () => import("esbuild");

/**
 * `flowOnly`: a folder whose imports of esbuild are not followed (daskflow's own: it builds in the flow process
 * only, and esbuild is the largest part of its dependencies).
 */
export async function traceImports(entries: readonly string[], flowOnly?: string): Promise<Trace> {
  const { build } = await esbuild();
  const trace: Trace = { files: new Set(), edges: new Map(), packageImports: [] };
  const problems: string[] = [];
  const tracer: Plugin = {
    name: "daskflow-trace",
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === RESOLVING || args.kind === "entry-point") return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        if (flowOnly && args.path === "esbuild" && args.importer.startsWith(flowOnly + "/")) return { path: args.path, external: true };
        const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RESOLVING });
        if (found.errors.length || !found.path) {
          problems.push(`'${args.path}' imported by ${args.importer}: ${found.errors[0]?.text ?? "not found"}`);
          return { path: args.path, external: true };
        }
        if (found.external) return { path: args.path, external: true };
        const inPackage = NODE_MODULES.test(found.path);
        const edges = trace.edges.get(args.importer) ?? new Map<string, Edge>();
        edges.set(args.path, { path: found.path, inPackage });
        trace.edges.set(args.importer, edges);
        if (inPackage) {
          trace.packageImports.push([args.importer, args.path]);
          return { path: args.path, external: true };
        }
        if (found.path.endsWith(".node")) {
          throw new ShippingError(`${args.importer} imports the native addon ${found.path}, which cannot be shipped to Dask workers (it is built for one platform and Node version). Install it on the workers and run with shipCode: false, with the project at the same path there.`);
        }
        return { path: found.path };
      });
    },
  };
  const result = await build({
    entryPoints: [...entries],
    outdir: "/", // nothing is written
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
    loader: { ".node": "empty" },
    plugins: [tracer],
    ...tsconfig(),
  });
  if (problems.length) {
    throw new ShippingError(`Cannot ship the flow's code to the Dask workers: some imports do not resolve:\n  ${problems.join("\n  ")}`);
  }
  for (const input of Object.keys(result.metafile.inputs)) {
    if (input.includes(":")) continue; // esbuild's own namespaces
    trace.files.add(absolute(input));
  }
  return trace;
}

function absolute(input: string): string {
  return resolve(process.cwd(), input);
}
