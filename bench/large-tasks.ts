/**
 * The tasks bench/large-values.ts sends to Dask (their own module: a worker imports the module that defines a task).
 * Bytes are filled with a non-zero byte so every page is touched, as in bench/raw_large.py.
 */
import { task } from "daskflow";

const MIB = 2 ** 20;

export const makeBytes = task({ name: "make-bytes" }, (mib: number): Uint8Array => new Uint8Array(mib * MIB).fill(7));
export const makeString = task({ name: "make-string" }, (mib: number): string => "x".repeat(mib * MIB));
export const sizeOf = task({ name: "size-of" }, (value: Uint8Array | string): number => (typeof value === "string" ? value.length : value.byteLength));
