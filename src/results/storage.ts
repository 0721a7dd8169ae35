/**
 * Result storage: where persisted task results live. A record is one object under the location, `<key>.dfr`: the
 * magic "DFR1", a 4-byte big-endian length, its metadata as JSON (key, task, created, expires, encoding version,
 * size, sha256), then the task's result envelope in daskflow's own encoding (the bytes that cross the wire). One
 * object, not two: a worker writes one per task, and creating files is what such writes cost. Local paths are read and written here (the flow process is
 * the worker of in-process runners); object-store URLs only through a Dask cluster's bridge, whose Python reads and
 * writes them with fsspec (python/daskflow_bridge/results/), as the workers do.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
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

const MAGIC = Buffer.from("DFR1");
export const RECORD_SUFFIX = ".dfr";

/** One record's bytes (python/daskflow_bridge/results/store.py writes the same). */
export function encodeRecord(spec: PersistSpec, bytes: Uint8Array): Buffer {
  const header = Buffer.from(JSON.stringify(makeMeta(spec, bytes)));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.byteLength);
  return Buffer.concat([MAGIC, length, header, bytes]);
}

/** A record's metadata and value bytes, or why it is not a record. */
export function parseRecord(record: Uint8Array): { meta: RecordMeta; bytes: Uint8Array } | { problem: string } {
  const buf = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  if (buf.byteLength < 8 || !buf.subarray(0, 4).equals(MAGIC)) return { problem: "it is not a daskflow result record" };
  const end = 8 + buf.readUInt32BE(4);
  try {
    return { meta: JSON.parse(buf.subarray(8, end).toString("utf8")) as RecordMeta, bytes: buf.subarray(end) };
  } catch (error) {
    return { problem: `its metadata cannot be read (${(error as Error).message})` };
  }
}

/** Writes one record at a local path (in-process runners). A torn write fails its checksum: a miss, never a value. */
const made = new Set<string>();

export async function writeLocal(spec: PersistSpec, bytes: Uint8Array): Promise<void> {
  if (!made.has(spec.location)) {
    await mkdir(spec.location, { recursive: true });
    made.add(spec.location);
  }
  await writeFile(join(spec.location, spec.key + RECORD_SUFFIX), encodeRecord(spec, bytes));
}

/** The verified value bytes of a record file's contents, or why they cannot be used ("expired": a plain miss). */
export function checkRecord(record: Uint8Array, now = Date.now()): { bytes: Uint8Array } | { problem: string } {
  const parsed = parseRecord(record);
  if ("problem" in parsed) return parsed;
  const problem = recordProblem(parsed.meta, parsed.bytes, now);
  return problem ? { problem } : { bytes: parsed.bytes };
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
 * Looks many keys up at a local location: for many keys one directory listing first, then only the records found are
 * read and checked (their bytes are returned for a lazy decode: nothing is decoded here). Synchronous reads, in
 * slices that yield between them: small files read that way cost a fraction of the thread-pool round trips of
 * fs/promises (measured: 2,000 hits ~3x faster).
 */
export async function lookupLocal(location: string, keys: readonly string[]): Promise<Map<string, Lookup>> {
  const out = new Map<string, Lookup>();
  let names: Set<string> | undefined;
  if (keys.length > 32) {
    try {
      names = new Set(readdirSync(location));
    } catch {
      names = new Set();
    }
  }
  for (let i = 0; i < keys.length; i++) {
    if (i > 0 && i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    const key = keys[i]!;
    if (names && !names.has(key + RECORD_SUFFIX)) {
      out.set(key, { hit: false });
      continue;
    }
    let record: Buffer | undefined;
    try {
      record = readFileSync(join(location, key + RECORD_SUFFIX));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      out.set(key, code === "ENOENT" ? { hit: false } : { hit: false, problem: `it cannot be read (${(error as Error).message})` });
      continue;
    }
    const checked = checkRecord(record);
    if ("bytes" in checked) out.set(key, { hit: true, bytes: checked.bytes });
    else out.set(key, checked.problem === "expired" ? { hit: false } : { hit: false, problem: checked.problem });
  }
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
