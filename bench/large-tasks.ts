/**
 * The tasks bench/large-values.ts sends to Dask (their own module: a worker imports the module that defines a task).
 * Bytes are filled with a non-zero byte so every page is touched, as in bench/raw_large.py.
 */
import { task } from "daskflow";

const MIB = 2 ** 20;

export const makeBytes = task({ name: "make-bytes" }, (mib: number): Uint8Array => new Uint8Array(mib * MIB).fill(7));
export const makeString = task({ name: "make-string" }, (mib: number): string => "x".repeat(mib * MIB));
export const bytesLength = task({ name: "bytes-length" }, (value: Uint8Array): number => value.byteLength);
export const stringLength = task({ name: "string-length" }, (value: string): number => value.length);
