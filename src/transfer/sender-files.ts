/**
 * The flow process's end of the bridge's value files (python/daskflow_bridge/transfer/sender_files.py): a gathered value of
 * 1 MiB or more arrives as a reference to a memfd of the bridge's, read here in one go from
 * `/proc/<bridge pid>/fd/<n>` instead of ~1,600 socket reads after a copy into asyncio's write buffer. The fds read
 * are handed back (`release-files`) so the bridge closes them. The bridge uses files only after this process read
 * its probe file. Where this process can read the bridge's memory (its token, process-memory.ts), a value is read
 * from there instead, where Dask received it (no copy into a file first), and its handle handed back the same way.
 */
import { closeSync, openSync } from "node:fs";
import { readValue } from "./framing.ts";
import { openProcessMemory, type MemoryReader } from "./process-memory.ts";

/** The env variable that asks the bridge for value files, and what its probe file holds. */
export const SENDER_FILES_ENV = "DASKFLOW_SENDER_FILES";
const PROBE = Buffer.from("daskflow-side-probe");

export function senderFilesWanted(): boolean {
  return process.platform === "linux";
}

export class SenderFiles {
  #read: number[] = [];
  #memory: MemoryReader | undefined;

  constructor(private readonly pid: () => number | undefined) {}

  /** One value: `payload` is the fd (u32) and length (u64), big-endian. */
  readonly read = (payload: Uint8Array): Buffer => {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const fd = view.getUint32(0);
    const out = this.#readFile(fd, Number(view.getBigUint64(4)));
    this.#read.push(fd);
    return out;
  };

  /** One value in the bridge's memory (its handle is handed back with the fds read). */
  readonly readMemory = (payload: Uint8Array): Uint8Array => {
    if (!this.#memory) throw new Error("The bridge referred to its memory, which this process did not agree to read.");
    return this.#memory.read(payload);
  };

  /** The fds and handles read since the last call (for `release-files`). */
  takeRead(): number[] {
    const fds = this.#read;
    this.#read = [];
    return fds;
  }

  /** Whether this process can read the bridge's probe file `fd` (`ok`), and its memory by `token` (`memory`). */
  probe(fd: number, token: string | undefined): { ok: boolean; memory: boolean } {
    let ok = false;
    try {
      ok = this.#readFile(fd, PROBE.byteLength).equals(PROBE);
    } catch {
      ok = false;
    }
    this.#memory?.close();
    this.#memory = ok ? openProcessMemory(token, "The bridge's memory", (handle) => this.#read.push(handle)) : undefined;
    return { ok, memory: this.#memory !== undefined };
  }

  /** The bridge is gone. */
  close(): void {
    this.#memory?.close();
    this.#memory = undefined;
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
