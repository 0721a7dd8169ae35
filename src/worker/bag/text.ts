/**
 * Text files for Bag.readText / toTextFiles, read and written by the sidecar on its worker. A block [start, end)
 * holds the lines whose first byte is in it, so blocks are read independently.
 */
import { closeSync, openSync, readFileSync, readSync, writeFileSync, fstatSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";

export interface TextBlock {
  path: string;
  start: number;
  end: number | null;
  compression: "gzip" | null;
}

const CHUNK = 64 * 1024;

export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith("\r")) lines[i] = lines[i]!.slice(0, -1);
  return lines;
}

/** The position of the first "\n" at or after `from`, or -1 at the end of the file. */
function newlineFrom(fd: number, from: number, size: number): number {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let pos = from; pos < size; pos += CHUNK) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
    const i = buf.subarray(0, n).indexOf(10);
    if (i !== -1) return pos + i;
  }
  return -1;
}

export function readBlock(block: TextBlock): string[] {
  if (block.compression === "gzip") return splitLines(gunzipSync(readFileSync(block.path)).toString("utf8"));
  if (block.end === null) return splitLines(readFileSync(block.path, "utf8"));
  const fd = openSync(block.path, "r");
  try {
    const size = fstatSync(fd).size;
    let begin = block.start;
    if (begin > 0) {
      // A line that began before this block belongs to the previous one.
      const nl = newlineFrom(fd, begin - 1, size);
      begin = nl === -1 ? size : nl + 1;
    }
    const end = Math.min(block.end, size);
    if (begin >= end) return [];
    const nl = newlineFrom(fd, end - 1, size);
    const stop = nl === -1 ? size : nl + 1;
    const buf = Buffer.allocUnsafe(stop - begin);
    readSync(fd, buf, 0, stop - begin, begin);
    return splitLines(buf.toString("utf8"));
  } finally {
    closeSync(fd);
  }
}

export function writeLines(path: string, items: readonly unknown[], compression: "gzip" | null): void {
  const text = items.length ? items.map(String).join("\n") + "\n" : "";
  writeFileSync(path, compression === "gzip" ? gzipSync(text) : text);
}
