/**
 * What a set-up environment is made of: the pinned requirements, the opt-in extras and the bridge package shipped
 * in this npm package, and the base interpreter. Their hash, kept in the environment's stamp, lets a second
 * `setup` return at once.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { PYTHON_SOURCES } from "../dask/paths.ts";
import { version } from "../version.ts";
import { CliError } from "./run.ts";

export const REQUIREMENTS = join(PYTHON_SOURCES, "requirements.lock");
/** Opt-in extras for features that need more than Dask (`--with NAME`). */
export const EXTRAS: Record<string, { lock: string; what: string }> = {
  dataframe: { lock: join(PYTHON_SOURCES, "requirements-dataframe.lock"), what: "pandas and pyarrow, for DataFrame" },
  s3: { lock: join(PYTHON_SOURCES, "requirements-s3.lock"), what: "s3fs, for s3:// result storage" },
};

export function checkExtras(names: string[]): string[] {
  for (const name of names) {
    if (!(name in EXTRAS)) throw new CliError(`daskflow setup: unknown --with '${name}'; known: ${Object.keys(EXTRAS).join(", ")}.`);
    if (!existsSync(EXTRAS[name]!.lock)) throw new CliError(`daskflow setup: this daskflow lacks ${EXTRAS[name]!.lock} for --with ${name}.`);
  }
  return [...new Set(names)].sort();
}

/** The bridge's own files (what `pip install python/` installs), skipping byte code. */
export function bridgeFiles(): string[] {
  const files: string[] = [join(PYTHON_SOURCES, "pyproject.toml")];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === "__pycache__" || entry.name.endsWith(".pyc")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(join(PYTHON_SOURCES, "daskflow_bridge"));
  return files;
}

export function inputsHash(base: string, extras: string[]): string {
  const hash = createHash("sha256").update(JSON.stringify({ version, base, extras, platform: process.platform }));
  for (const file of [REQUIREMENTS, ...extras.map((name) => EXTRAS[name]!.lock), ...bridgeFiles()]) {
    hash.update(`\0${relative(PYTHON_SOURCES, file)}\0`).update(readFileSync(file));
  }
  return hash.digest("hex");
}

/** `name==version` pins of a lock file (markers kept, comments dropped). */
export function pins(lock: string): string[] {
  return readFileSync(lock, "utf8").split("\n").map((line) => line.trim()).filter((line) => line && !line.startsWith("#"));
}
