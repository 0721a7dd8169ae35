/**
 * Where things are: the daskflow package root (for the bridge's Python sources), the Python interpreter that has
 * `distributed`, and the sidecar entry that Dask workers start.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** src/dask or dist/dask → the package root. */
export const PACKAGE_ROOT = resolve(here, "..", "..");
export const PYTHON_SOURCES = join(PACKAGE_ROOT, "python");
/** Loaded from TypeScript sources (tests, tsx) or from the built JavaScript. */
const fromSource = import.meta.url.endsWith(".ts");

export function sidecarEntry(): string {
  return join(here, "..", "worker", fromSource ? "sidecar.ts" : "sidecar.js");
}

function venvPython(dir: string): string | undefined {
  const candidate = join(dir, ".venv", "bin", "python");
  return existsSync(candidate) ? candidate : undefined;
}

export interface PythonChoice {
  path: string;
  /** How it was chosen, for error messages. */
  source: string;
}

/**
 * The interpreter for the bridge: the `python` option, else DASKFLOW_PYTHON, else the project's `.venv` (the
 * working directory's, then daskflow's own, which `npm test` / `npm start` create), else `python3`.
 */
export function choosePython(option: string | undefined): PythonChoice {
  if (option) return { path: option, source: "the DaskTaskRunner `python` option" };
  const fromEnv = process.env.DASKFLOW_PYTHON;
  if (fromEnv) return { path: fromEnv, source: "DASKFLOW_PYTHON" };
  const project = venvPython(process.cwd()) ?? venvPython(PACKAGE_ROOT);
  if (project) return { path: project, source: "the project's .venv" };
  return { path: "python3", source: "python3 on PATH" };
}

export function pythonEnv(): NodeJS.ProcessEnv {
  const existing = process.env.PYTHONPATH;
  return { ...process.env, PYTHONPATH: existing ? `${PYTHON_SOURCES}:${existing}` : PYTHON_SOURCES, PYTHONUNBUFFERED: "1" };
}

/** The Node command a worker runs for a sidecar: this Node, with this process's loaders (tsx and the like). */
export function sidecarCommand(): { node: string; argv: string[] } {
  const keep: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (/^--(inspect|debug|test|cpu-prof|heap-prof|prof|watch)/.test(arg)) continue;
    if ((arg === "--import" || arg === "--require" || arg === "-r" || arg === "--loader" || arg === "--experimental-loader" || arg === "--conditions" || arg === "-C") && i + 1 < args.length) {
      keep.push(arg, args[++i]!);
      continue;
    }
    if (/^--(import|require|loader|experimental-loader|conditions)=/.test(arg) || /^--(max-old-space-size|enable-source-maps|no-warnings|stack-trace-limit)/.test(arg)) keep.push(arg);
  }
  // Loaded from TypeScript sources: the sidecar needs a TS loader too (resolved here, not from the worker's cwd).
  if (fromSource && !keep.some((a) => a.includes("tsx"))) keep.push("--import", import.meta.resolve("tsx"));
  return { node: process.execPath, argv: [...keep, sidecarEntry()] };
}
