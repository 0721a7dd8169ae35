/**
 * Bundlers and tracers compared for code shipping (docs/code-shipping.md): on examples/main.ts and on a generated
 * project of 200 TypeScript modules with a ~5 MiB npm dependency (shipping-project.ts), each tool asked for what
 * shipping needs — the project's modules as JavaScript, one output per source module, and the files of the npm
 * packages they use:
 *   esbuild      daskflow's way: one esbuild pass traces (metafile, packages external), one compiles without
 *                bundling; packages copied whole (packages.ts)
 *   tsc          TypeScript's transpileModule on the same traced project files (compile only: no tracer of its own)
 *   nft          @vercel/nft nodeFileTrace from the entry (traces project and node_modules files; compiles nothing)
 *   rollup       rollup with preserveModules (TypeScript stripped by esbuild's transform in a load hook), packages
 *                external: the graph and one output per module
 * rollup and @vercel/nft are not daskflow dependencies: this installs them (pinned) into the ignored
 * .cache/bench-bundlers on first use. typescript is a dev dependency.
 *
 *   bash bench/run.sh shipping-bundlers
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT, sidecarCommand } from "../src/dask/paths.ts";
import { emit, needsEmit } from "../src/dask/shipping/emit.ts";
import { collectPackages } from "../src/dask/shipping/packages.ts";
import { traceImports } from "../src/dask/shipping/trace.ts";
import { generateProject } from "./shipping-project.ts";
import { median } from "./stats.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOOLS = join(PACKAGE_ROOT, ".cache", "bench-bundlers");
const PINS = ["@vercel/nft@1.11.5", "rollup@4.68.5"];
if (!existsSync(join(TOOLS, "node_modules", "rollup"))) {
  execFileSync("npm", ["install", "--prefix", TOOLS, "--no-audit", "--no-fund", "--save-exact", ...PINS], { stdio: "inherit" });
}
const tool = <T>(name: string) => import(pathToFileURL(join(TOOLS, "node_modules", name, JSON.parse(readFileSync(join(TOOLS, "node_modules", name, "package.json"), "utf8")).main ?? "index.js")).href) as Promise<T>;

interface NftModule {
  nodeFileTrace(files: string[], options: { base: string; ts?: boolean }): Promise<{ fileList: Set<string> }>;
}
interface RollupModule {
  rollup(options: object): Promise<{ generate(o: object): Promise<{ output: Array<{ fileName: string }> }>; close(): Promise<void> }>;
}

async function timeIt(fn: () => Promise<string>): Promise<{ s: number; what: string }> {
  const times: number[] = [];
  let what = "";
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    what = await fn();
    times.push((performance.now() - t) / 1000);
  }
  return { s: median(times), what };
}

async function compare(label: string, entry: string, base: string): Promise<void> {
  const sidecar = sidecarCommand(true).entry;
  const ts = (await import("typescript")).default;
  const { transform } = await import("esbuild");
  const nft = await tool<NftModule>("@vercel/nft");
  const rollup = await tool<RollupModule>("rollup");
  const traced = await traceImports([entry, sidecar], PACKAGE_ROOT);
  const results: Record<string, { s: number; what: string }> = {};
  results.esbuild = await timeIt(async () => {
    const trace = await traceImports([entry, sidecar], PACKAGE_ROOT);
    const files = [...trace.files].filter((f) => needsEmit(f, trace.edges.get(f)));
    const out = await emit(files, trace.edges);
    const pkgs = collectPackages(trace.packageImports, new Set());
    return `${out.length} modules compiled, ${pkgs.packages.size} packages (${[...pkgs.packages.values()].reduce((n, p) => n + p.files.length, 0)} files)`;
  });
  results.tsc = await timeIt(async () => {
    let n = 0;
    for (const file of traced.files) {
      if (!/\.ts$/.test(file)) continue;
      ts.transpileModule(readFileSync(file, "utf8"), { fileName: file, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } });
      n++;
    }
    return `${n} modules compiled (no trace)`;
  });
  results.nft = await timeIt(async () => {
    const { fileList } = await nft.nodeFileTrace([entry, sidecar], { base, ts: true });
    const inModules = [...fileList].filter((f) => f.includes("node_modules/")).length;
    return `${fileList.size} files traced (${inModules} in node_modules), nothing compiled`;
  });
  results.rollup = await timeIt(async () => {
    const bundle = await rollup.rollup({
      input: [entry, sidecar],
      external: (id: string) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0"),
      onwarn: () => {},
      plugins: [
        {
          name: "strip-types",
          async transform(code: string, id: string) {
            return /\.ts$/.test(id) ? (await transform(code, { loader: "ts", format: "esm" })).code : null;
          },
        },
      ],
    });
    const { output } = await bundle.generate({ preserveModules: true, format: "es" });
    await bundle.close();
    return `${output.length} output modules (packages external, not collected)`;
  });
  console.log(`${label}:`);
  for (const [name, r] of Object.entries(results)) console.log(`  ${name.padEnd(8)} ${(r.s * 1000).toFixed(0).padStart(6)} ms  ${r.what}`);
}

console.log(`bundlers compared for code shipping, median of ${ROUNDS} rounds`);
await compare("examples/main.ts", join(PACKAGE_ROOT, "examples", "main.ts"), PACKAGE_ROOT);
const generated = generateProject(join(PACKAGE_ROOT, "src", "index.ts"));
try {
  await compare("generated project (200 modules, 5 MiB npm dependency)", generated.entry, "/");
} finally {
  rmSync(generated.dir, { recursive: true, force: true });
}
