/**
 * Result storage: where persisted task results live. A record is two objects under the location: `<key>.bin`, the
 * task's result envelope in daskflow's own encoding (the bytes that cross the wire), and `<key>.json`, its metadata
 * (written last: a record without it does not exist). Local paths are read and written here (the flow process is
 * the worker of in-process runners); object-store URLs only through a Dask cluster's bridge, whose Python reads and
 * writes them with fsspec (python/daskflow_bridge/results/), as the workers do.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { findProjectRoot } from "../dask/environment.ts";

/** Bumped when the stored bytes change meaning: an older or newer record is a miss, never a wrong value. */
export const ENCODING_VERSION = 1;
/** The default location, under the project root (`.daskflow/`, next to the set-up's `venv/`). */
export const DEFAULT_DIR = join(".daskflow", "results");

export interface RecordMeta {
  key: string;
  task: string;
  /** ISO times. */
  created: string;
  expires: string | null;
  encoding: number;
  size: number;
  sha256: string;
}

/** What a worker needs to write one result (it crosses to the workers in the task's meta). */
export interface PersistSpec {
  location: string;
  key: string;
  task: string;
  /** Epoch seconds, or absent for no expiry. */
  expires?: number;
}

export function isRemote(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith("file://");
}

/** The storage location of a flow run: the option, DASKFLOW_RESULT_STORAGE, else `.daskflow/results` at the project root. */
export function resolveLocation(option: string | undefined): string {
  const named = option ?? process.env.DASKFLOW_RESULT_STORAGE;
  if (named) {
    if (named.startsWith("file://")) return new URL(named).pathname;
    return isRemote(named) ? named.replace(/\/+$/, "") : resolve(named);
  }
  const root = findProjectRoot(process.cwd()) ?? process.cwd();
  return join(root, DEFAULT_DIR);
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function makeMeta(spec: PersistSpec, bytes: Uint8Array): RecordMeta {
  return {
    key: spec.key,
    task: spec.task,
    created: new Date().toISOString(),
    expires: spec.expires === undefined ? null : new Date(spec.expires * 1000).toISOString(),
    encoding: ENCODING_VERSION,
    size: bytes.byteLength,
    sha256: sha256(bytes),
  };
}

/** Writes one record at a local path: the bytes, then the metadata, each through a rename (never half a record). */
export async function writeLocal(spec: PersistSpec, bytes: Uint8Array): Promise<void> {
  await mkdir(spec.location, { recursive: true });
  const tmp = `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const bin = join(spec.location, `${spec.key}.bin`);
  await writeFile(bin + tmp, bytes);
  await rename(bin + tmp, bin);
  const meta = join(spec.location, `${spec.key}.json`);
  await writeFile(meta + tmp, JSON.stringify(makeMeta(spec, bytes)));
  await rename(meta + tmp, meta);
}

/** Why a record cannot be used (a warning; "expired" for a plain miss), or undefined when `bytes` are what `meta` says. */
export function recordProblem(meta: RecordMeta, bytes: Uint8Array | undefined, now = Date.now()): string | undefined {
  if (meta.encoding !== ENCODING_VERSION) return `it has encoding version ${String(meta.encoding)}, this daskflow reads ${ENCODING_VERSION}`;
  if (meta.expires && Date.parse(meta.expires) <= now) return "expired";
  if (!bytes) return "its value is missing";
  if (bytes.byteLength !== meta.size || sha256(bytes) !== meta.sha256) return "its checksum does not match its bytes (corrupted or partly written)";
  return undefined;
}

export type Lookup = { hit: true; bytes: Uint8Array } | { hit: false; problem?: string };

/**
 * Looks many keys up at a local location: one directory listing, then only the records found are read and checked
 * (their bytes are kept for a lazy decode: nothing is decoded here).
 */
export async function lookupLocal(location: string, keys: readonly string[]): Promise<Map<string, Lookup>> {
  const out = new Map<string, Lookup>();
  let names: Set<string>;
  try {
    names = new Set(await readdir(location));
  } catch {
    names = new Set();
  }
  await Promise.all(
    keys.map(async (key) => {
      if (!names.has(`${key}.json`)) return out.set(key, { hit: false });
      try {
        const meta = JSON.parse(await readFile(join(location, `${key}.json`), "utf8")) as RecordMeta;
        const bytes = await readFile(join(location, `${key}.bin`)).catch(() => undefined);
        const problem = recordProblem(meta, bytes);
        if (problem === "expired") return out.set(key, { hit: false });
        out.set(key, problem ? { hit: false, problem } : { hit: true, bytes: bytes! });
      } catch (error) {
        out.set(key, { hit: false, problem: `its metadata cannot be read (${(error as Error).message})` });
      }
    }),
  );
  return out;
}

/** Checks that this process can write `location` (the in-process runners' worker is the flow process). */
export async function probeLocal(location: string): Promise<string | undefined> {
  if (!isAbsolute(location)) return `'${location}' is not an absolute path`;
  const probe = join(location, `.probe-${process.pid}-${Date.now()}`);
  try {
    await mkdir(location, { recursive: true });
    await writeFile(probe, "ok");
    await rm(probe, { force: true });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
