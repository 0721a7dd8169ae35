/**
 * A pack: the files of one shipment, content-addressed. The body is MessagePack `{format, files: [[path, mode,
 * bytes]], links: [[path, target]]}` with entries sorted by path (the same files give the same bytes), deflated; its
 * hash names the folder each host unpacks it into once (python/daskflow_bridge/shipping/packs.py).
 */
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import { Encoder } from "@msgpack/msgpack";

export const PACK_FORMAT = "daskflow-pack/1";

export interface PackEntry {
  /** Path inside the code root. */
  path: string;
  mode: number;
  data: Uint8Array;
  /** What it is part of, for the size report: a package name, "project" or "daskflow". */
  part: string;
}

export interface Pack {
  hash: string;
  /** Deflated body. */
  data: Uint8Array;
  /** Uncompressed size of the files. */
  bytes: number;
  files: number;
}

const encoder = new Encoder();

export function makePack(entries: readonly PackEntry[], links: ReadonlyArray<readonly [string, string]>): Pack {
  const files = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const sortedLinks = [...links].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const body = encoder.encode({ format: PACK_FORMAT, files: files.map((f) => [f.path, f.mode, f.data]), links: sortedLinks });
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 32);
  return { hash, data: deflateSync(body, { level: 1 }), bytes: files.reduce((n, f) => n + f.data.byteLength, 0), files: files.length };
}
