/**
 * Where things are: the daskflow package root (for the bridge's Python sources), the Python interpreter that has
 * `distributed` and the bridge, and the sidecar entry that Dask workers start.
 */
import { existsSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SIDECAR_ENV, sidecarEnvList } from "./protocol.ts";
import { findEnvironment, venvPython } from "./environment.ts";
import { version } from "../version.ts";

/** The npm package's version, which the bridge (python/daskflow_bridge/__main__.py) checks it was installed at. */
export const BRIDGE_VERSION_ENV = "DASKFLOW_NPM_VERSION";

const here = dirname(fileURLToPath(import.meta.url));
/** src/dask or dist/dask → the package root. */
export const PACKAGE_ROOT = resolve(here, "..", "..");
export const PYTHON_SOURCES = join(PACKAGE_ROOT, "python");
/** Loaded from TypeScript sources (tests, tsx) or from the built JavaScript. */
const fromSource = import.meta.url.endsWith(".ts");

/** This module's extension, which its sibling the sidecar shares: ".ts" from sources, ".js" built, and ".ts.js" for
 * sources shipped to a worker (compiled names keep theirs, see shipping/module-map.ts). */
const ownExtension = /(\.ts\.js|\.ts|\.js)$/.exec(fileURLToPath(import.meta.url))?.[0] ?? ".js";

export function sidecarEntry(): string {
  return join(here, "..", "worker", `sidecar${ownExtension}`);
}

export interface PythonChoice {
  path: string;
  /** How it was chosen, for error messages. */
  source: string;
  /** Where a set-up environment was looked for (folders walked up from), for error messages. */
  searched: string[];
}

/** The repository's dev environment (scripts/setup-python.sh); an installed package has none. */
const DEV_VENV = venvPython(join(PACKAGE_ROOT, ".venv"));
/** Whether daskflow runs from a checkout of its repository (npm start / npm test exist there). */
export const IN_REPOSITORY = existsSync(join(PACKAGE_ROOT, "scripts", "setup-python.sh"));

/**
 * The interpreter for the bridge: the `python` option, else DASKFLOW_PYTHON, else the `.daskflow/venv` of
 * `npx daskflow setup` found walking up from the working directory, then from the flow's entry module, else this
 * repository's dev `.venv`, else `python3`.
 */
export function choosePython(option: string | undefined): PythonChoice {
  const entry = process.argv[1] ? dirname(resolve(process.argv[1])) : undefined;
  const searched = [...new Set([process.cwd(), ...(entry ? [entry] : [])])];
  if (option) return { path: option, source: "the DaskTaskRunner `python` option", searched: [] };
  const fromEnv = process.env.DASKFLOW_PYTHON;
  if (fromEnv) return { path: fromEnv, source: "DASKFLOW_PYTHON", searched: [] };
  for (const start of searched) {
    const found = findEnvironment(start);
    if (found) return { path: found, source: "the project's environment (npx daskflow setup)", searched };
  }
  if (existsSync(DEV_VENV)) return { path: DEV_VENV, source: "this repository's .venv", searched };
  return { path: "python3", source: "python3 on PATH", searched };
}

/** The bridge's environment: daskflow_bridge comes from the interpreter's own site-packages, never PYTHONPATH. */
export function pythonEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONUNBUFFERED: "1", [BRIDGE_VERSION_ENV]: version };
}

/** tsx's own start-up helper for its CLI (signal and IPC relay to the `tsx` process): a sidecar has no use for it. */
const isTsxPreflight = (spec: string) => /[/\\]tsx[/\\]dist[/\\]preflight\.cjs$/.test(spec) || spec === "tsx/preflight";
/** A tsx loader given to `--import` (`tsx`, `tsx/esm`, or the file tsx's CLI passes). */
const isTsxLoader = (spec: string) => spec === "tsx" || spec.startsWith("tsx/") || /[/\\]tsx[/\\]dist[/\\]/.test(spec);

export interface SidecarCommand {
  node: string;
  argv: string[];
  /** SIDECAR_ENV.loaders: loaders the sidecar imports just before the first user module instead of at start. */
  env: Record<string, string>;
}

/** The sidecar command for shipped code: Node's own flags only, no loaders (shipped code is JavaScript). */
export interface ShippedSidecarCommand {
  node: string;
  /** Flags; the worker appends the shipped `entry`. */
  argv: string[];
  /** The file the sidecars run (daskflow's sidecar entry in this process), to be shipped. */
  entry: string;
  /** Loader flags left out: a loader the flow was started with is not shipped. */
  dropped: string[];
}

/**
 * The Node command a worker runs for a sidecar: this Node, with this process's loaders (tsx and the like).
 *
 * Built daskflow runs natively in the sidecar; tsx, which costs a sidecar ~0.5 s of CPU to start, is imported only
 * when the first task module is (SIDECAR_ENV.loaders). From TypeScript sources, daskflow itself needs tsx at once.
 */
export function sidecarCommand(): SidecarCommand;
export function sidecarCommand(shipped: true): ShippedSidecarCommand;
export function sidecarCommand(shipped = false): SidecarCommand | ShippedSidecarCommand {
  const keep: string[] = [];
  const dropped: string[] = [];
  // In a sidecar (a task's nested runner), the loaders it deferred itself are passed on the same way.
  const deferred = sidecarEnvList(SIDECAR_ENV.loaders);
  const args = process.execArgv;
  const loader = (flag: string, spec: string) => {
    if (isTsxPreflight(spec)) return;
    if (shipped) {
      if (flag === "--conditions") keep.push(`${flag}=${spec}`);
      else if (!isTsxLoader(spec)) dropped.push(`${flag}=${spec}`);
      return;
    }
    const url = !fromSource && flag === "--import" && isTsxLoader(spec) ? toImportUrl(spec) : undefined;
    if (url === undefined) keep.push(`${flag}=${spec}`); // not deferred: started with, as in the flow process
    else if (!deferred.includes(url)) deferred.push(url);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (/^--(inspect|debug|test|cpu-prof|heap-prof|prof|watch)/.test(arg)) continue;
    const joined = /^(--import|--require|--loader|--experimental-loader|--conditions)=(.*)$/.exec(arg);
    if (joined) loader(joined[1]!, joined[2]!);
    else if (["--import", "--require", "-r", "--loader", "--experimental-loader", "--conditions", "-C"].includes(arg) && i + 1 < args.length) {
      loader(arg === "-r" ? "--require" : arg === "-C" ? "--conditions" : arg, args[++i]!);
    } else if (/^--(max-old-space-size|enable-source-maps|no-warnings|stack-trace-limit)/.test(arg)) keep.push(arg);
  }
  if (shipped) {
    // Shipped modules carry source maps naming the flow machine's files (shipping/emit.ts), so a stack sent back
    // points at the user's lines. A flag, not a call in the sidecar: its own modules load before its code runs.
    if (!keep.includes("--enable-source-maps")) keep.push("--enable-source-maps");
    return { node: process.execPath, argv: keep, entry: realpathSync(sidecarEntry()), dropped };
  }
  // Loaded from TypeScript sources: the sidecar needs a TS loader too (resolved here, not from the worker's cwd).
  if (fromSource && !keep.some((a) => a.includes("tsx"))) keep.push(`--import=${import.meta.resolve("tsx")}`);
  const env: Record<string, string> = deferred.length ? { [SIDECAR_ENV.loaders]: JSON.stringify(deferred) } : {};
  return { node: process.execPath, argv: [...keep, sidecarEntry()], env };
}

/** A module specifier as the sidecar can import it from anywhere (a file: URL), or undefined if it cannot be found. */
function toImportUrl(spec: string): string | undefined {
  if (spec.startsWith("file:") || spec.startsWith("data:")) return spec;
  if (isAbsolute(spec)) return pathToFileURL(spec).href;
  try {
    return pathToFileURL(createRequire(join(process.cwd(), "noop.js")).resolve(spec)).href;
  } catch {
    return undefined;
  }
}
