/**
 * The project-local Python environment that `npx daskflow setup` creates and the bridge looks for: `.daskflow/venv`
 * at the project root. A folder of daskflow's own, so a project's `.venv` (and this repository's dev `.venv`) is
 * never touched or mistaken for it.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";

export const ENV_DIR = join(".daskflow", "venv");

/** The interpreter inside a virtual environment. */
export function venvPython(venv: string): string {
  return process.platform === "win32" ? join(venv, "Scripts", "python.exe") : join(venv, "bin", "python");
}

function* ancestors(start: string): Generator<string> {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    yield dir;
    if (dirname(dir) === dir) return;
  }
}

/** The nearest folder with a package.json, walking up from `start` and skipping those inside node_modules. */
export function findProjectRoot(start: string): string | undefined {
  for (const dir of ancestors(start)) {
    if (dir.split(sep).includes("node_modules")) continue;
    if (existsSync(join(dir, "package.json"))) return dir;
  }
  return undefined;
}

/** The first `.daskflow/venv` with an interpreter in `start` or one of its parents. */
export function findEnvironment(start: string): string | undefined {
  for (const dir of ancestors(start)) {
    const python = venvPython(join(dir, ENV_DIR));
    if (existsSync(python)) return python;
  }
  return undefined;
}
