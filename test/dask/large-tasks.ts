/**
 * Tasks of test/dask/large-values.test.ts (their own module: Dask workers import the module that defines a task).
 * Values are made on the worker from a seed, so the test knows what they must be without sending them.
 */
import { createHash } from "node:crypto";
import { task } from "../../src/index.ts";

const MIB = 2 ** 20;

/** `mib` MiB of pseudo-random bytes (xorshift32 from `seed`): every byte matters, nothing compresses. */
export function seededBytes(mib: number, seed: number): Uint8Array {
  const words = new Uint32Array((mib * MIB) / 4);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer);
}

/** A string of `mib` Mi characters: not Latin-1 (V8 keeps it two bytes per character), or (`latin1`) every
 * character below 256, not all ASCII (one byte each). */
export function seededString(mib: number, seed: number, latin1 = false): string {
  const unit = latin1 ? `daskflow é ${seed} ÿ ` : `daskflow ✓ ${seed} → `;
  return unit.repeat(Math.ceil((mib * MIB) / unit.length)).slice(0, mib * MIB);
}

export function digest(value: Uint8Array | string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** What a downstream task sees: its argument's type and hash. */
export interface Seen {
  type: string;
  length: number;
  sha256: string;
}

function seen(value: Uint8Array | string): Seen {
  const type = typeof value === "string" ? "string" : value.constructor.name;
  return { type, length: typeof value === "string" ? value.length : value.byteLength, sha256: digest(value) };
}

export const bigBytes = task({ name: "big-bytes" }, (mib: number, seed: number): Uint8Array => seededBytes(mib, seed));
export const bigString = task({ name: "big-string" }, (mib: number, seed: number, latin1: boolean): string => seededString(mib, seed, latin1));
export const seeBytes = task({ name: "see-bytes" }, (value: Uint8Array): Seen => seen(value));
export const seeString = task({ name: "see-string" }, (value: string): Seen => seen(value));

/** A Buffer of `mib` MiB next to small values in one result. */
export const mixed = task({ name: "mixed" }, (mib: number, seed: number) => ({
  before: [1, "two", null],
  buffer: Buffer.from(seededBytes(mib, seed).buffer),
  after: { ok: true },
}));
