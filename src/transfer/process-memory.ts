/**
 * Reading a value straight out of another daskflow process's memory (`/proc/<pid>/mem`): the worker's, by its
 * sidecar (src/worker/channel.ts), and the bridge's, by the flow process (sender-files.ts). One copy, into memory of
 * this process's own, instead of a copy into a file by the holder and another out of it here.
 *
 * The holder first puts a token at a known address (`<pid>:<address>:<token hex>`); this process may read the
 * holder's memory if it reads the token back (ptrace rules: same user; under Yama `ptrace_scope` 1 only a parent its
 * child's; 2 or more, never). A value is MessagePack ext type MEMORY_EXT (framing.ts): a handle (u32; 0 when there is
 * nothing to hand back), its address and its length (u64), big-endian (python/daskflow_bridge/transfer/process_memory.py).
 */
import { closeSync, openSync } from "node:fs";
import { readInto, readValue } from "./framing.ts";
import { joinSplit, splitAt } from "./value-bytes.ts";
import type { ScratchMemory } from "./scratch-memory.ts";

/** `read`: the bytes a MEMORY_EXT payload refers to; `close`: done with the holder's memory; `moved`: bytes read. */
export interface MemoryReader {
  readonly read: (payload: Uint8Array) => Uint8Array;
  readonly close: () => void;
  moved: number;
}

/** Values of at least this size whose parts are all strings have their parts read into `scratch` memory. */
const SCRATCH_MIN = 4 * 2 ** 20;

/** A reader of the memory the token `value` names, or undefined when this process may not read it. `onHandle` gets
 * the handle of each value read (the holder keeps the value until it is handed back). `scratch`: memory to reuse for
 * the string parts of values that are decoded at once (scratch-memory.ts). */
export function openProcessMemory(value: string | undefined, what: string, onHandle?: (handle: number) => void, scratch?: ScratchMemory): MemoryReader | undefined {
  const match = /^(\d+):(\d+):([0-9a-f]{32})$/.exec(value ?? "");
  if (!match) return undefined;
  let fd: number;
  try {
    fd = openSync(`/proc/${match[1]}/mem`, "r");
  } catch {
    return undefined;
  }
  try {
    if (readValue(fd, Number(match[2]), 16, what).toString("hex") !== match[3]) throw new Error("token differs");
  } catch {
    closeSync(fd);
    return undefined;
  }
  const reader: MemoryReader = {
    read: (payload) => {
      const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      const [address, length] = [Number(view.getBigUint64(4)), Number(view.getBigUint64(12))];
      const out = (scratch && length >= SCRATCH_MIN && readSplit(fd, address, length, what, scratch)) || readValue(fd, address, length, what);
      reader.moved += length;
      const handle = view.getUint32(0);
      if (handle) onHandle?.(handle);
      return out;
    },
    close: () => closeSync(fd),
    moved: 0,
  };
  return reader;
}

/** A value whose parts are all strings, its head in memory of its own and its parts in `scratch`; undefined for
 * other values, or when the scratch memory is another's. */
function readSplit(fd: number, address: number, length: number, what: string, scratch: ScratchMemory): Uint8Array | undefined {
  if (!scratch.free) return undefined;
  const at = splitAt(readValue(fd, address, 12, what), length);
  if (at === undefined) return undefined;
  const before = Buffer.allocUnsafeSlow(at);
  const parts = scratch.take(length - at, before);
  if (!parts) return undefined;
  readInto(fd, address, before, what);
  readInto(fd, address + at, parts, what);
  return joinSplit(before, parts);
}
