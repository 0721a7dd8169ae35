/**
 * The flow process's end of the bridge's value files (python/daskflow_bridge/sender_files.py): a gathered value of
 * 1 MiB or more arrives as a reference to a memfd of the bridge's, read here in one go from
 * `/proc/<bridge pid>/fd/<n>` instead of ~1,600 socket reads after a copy into asyncio's write buffer. The fds read
 * are handed back (`release-files`) so the bridge closes them. The bridge uses files only after this process read
 * its probe file.
 */
import { closeSync, openSync } from "node:fs";
import { readValue } from "./framing.ts";

/** The env variable that asks the bridge for value files, and what its probe file holds. */
export const SENDER_FILES_ENV = "DASKFLOW_SENDER_FILES";
const PROBE = Buffer.from("daskflow-side-probe");

export function senderFilesWanted(): boolean {
  return process.platform === "linux";
}

export class SenderFiles {
  #read: number[] = [];

  constructor(private readonly pid: () => number | undefined) {}

  /** One value: `payload` is the fd (u32) and length (u64), big-endian. */
  readonly read = (payload: Uint8Array): Buffer => {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const fd = view.getUint32(0);
    const out = this.#readFile(fd, Number(view.getBigUint64(4)));
    this.#read.push(fd);
    return out;
  };

  /** The fds read since the last call (for `release-files`). */
  takeRead(): number[] {
    const fds = this.#read;
    this.#read = [];
    return fds;
  }

  /** Whether this process can read the bridge's probe file `fd`. */
  probe(fd: number): boolean {
    try {
      return this.#readFile(fd, PROBE.byteLength).equals(PROBE);
    } catch {
      return false;
    }
  }

  #readFile(fd: number, length: number): Buffer {
    const file = openSync(`/proc/${this.pid()}/fd/${fd}`, "r");
    try {
      return readValue(file, 0, length, `The bridge's value file ${fd}`);
    } finally {
      closeSync(file);
    }
  }
}
