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

/** Pushes the lines of `text` (without their "\n" or "\r\n") one by one, with no array of them all. */
function pushLines(text: string, sink: (line: string) => void): void {
  const n = text.length;
  for (let start = 0; start < n; ) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = n;
    sink(text.charCodeAt(end - 1) === 13 && end > start ? text.slice(start, end - 1) : text.slice(start, end));
    start = end + 1;
  }
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

/** The text of a block: whole lines, from the first that begins in it to the last that does. */
function readBlockText(block: TextBlock): string {
  if (block.compression === "gzip") return gunzipSync(readFileSync(block.path)).toString("utf8");
  if (block.end === null) return readFileSync(block.path, "utf8");
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
    if (begin >= end) return "";
    const nl = newlineFrom(fd, end - 1, size);
    const stop = nl === -1 ? size : nl + 1;
    const buf = Buffer.allocUnsafe(stop - begin);
    readSync(fd, buf, 0, stop - begin, begin);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** A source (pipeline.ts) of the lines of a block. */
export function blockSource(block: TextBlock): (sink: (line: string) => void) => void {
  return (sink) => pushLines(readBlockText(block), sink);
}

export function writeLines(path: string, items: readonly unknown[], compression: "gzip" | null): void {
  const text = items.length ? items.map(String).join("\n") + "\n" : "";
  writeFileSync(path, compression === "gzip" ? gzipSync(text) : text);
}
