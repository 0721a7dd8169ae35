/**
 * Reading a value straight out of another daskflow process's memory (`/proc/<pid>/mem`): the worker's, by its
 * sidecar (src/worker/worker-memory.ts), and the bridge's, by the flow process (sender-files.ts). One copy, into
 * memory of this process's own, instead of a copy into a file by the holder and another out of it here.
 *
 * The holder first puts a token at a known address (`<pid>:<address>:<token hex>`); this process may read the
 * holder's memory if it reads the token back (ptrace rules: same user; under Yama `ptrace_scope` 1 only a parent its
 * child's; 2 or more, never).
 */
import { closeSync, openSync } from "node:fs";
import { readValue } from "./framing.ts";

/** `read`: `length` bytes at `address` of the holder's memory; `close`: done with it. */
export interface MemoryReader {
  read(address: number, length: number): Buffer;
  close(): void;
}

/** A reader of the memory the token `value` names, or undefined when this process may not read it. */
export function openProcessMemory(value: string | undefined, what: string): MemoryReader | undefined {
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
  return { read: (address, length) => readValue(fd, address, length, what), close: () => closeSync(fd) };
}
