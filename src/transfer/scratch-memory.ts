/**
 * Memory a reader reuses for bytes it only passes through: the string parts of a large value a sidecar reads out of
 * its worker's memory (process-memory.ts; value-bytes.ts splitAt), which decoding copies into strings at once.
 * Fresh memory is what costs most on a VM (every new page faults, often into the host: a fresh 100 MiB took
 * 60-300 ms to fill on the benchmark machine, warm pages about 25 ms), so a string's bytes go through pages written
 * before instead of new ones each time.
 *
 * Never two owners: the memory is handed out again only once the bytes it was given with (`owner`) are collected,
 * so a value still held (a request being decoded, or decoded twice) never sees its bytes overwritten. A finalizer
 * says so, not a WeakRef: asking a WeakRef keeps its target alive to the end of the turn, and a sidecar's turn that
 * reads a request often runs the whole task and its collection, so the owner would never be collected. Kept for
 * IDLE_MS after its last use, at most MAX_BYTES; then let go (collected at once, as a sidecar does after a task that
 * moved large values).
 */
import { collectGarbage } from "./collect-garbage.ts";

/** Bytes above which reads take fresh memory as before. */
const MAX_BYTES = 512 * 2 ** 20;
const IDLE_MS = 10_000;

export class ScratchMemory {
  #buffer: Buffer | undefined;
  /** Counts the loans; the finalizer of the current one's owner frees the memory. */
  #loan = 0;
  #lent = false;
  readonly #returned = new FinalizationRegistry<number>((loan) => {
    if (loan === this.#loan) this.#lent = false;
  });
  #idle: NodeJS.Timeout | undefined;

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.#buffer?.byteLength ?? 0;
  }

  /** Whether the memory is no one's now (its last owner was collected). */
  get free(): boolean {
    return !this.#lent;
  }

  /** `length` bytes for `owner`'s use while it lives; undefined when they are too many, or still another's. */
  take(length: number, owner: object): Uint8Array | undefined {
    if (length > MAX_BYTES || this.#lent) return undefined;
    if (!this.#buffer || this.#buffer.byteLength < length) this.#buffer = Buffer.allocUnsafeSlow(length);
    this.#lent = true;
    this.#returned.register(owner, ++this.#loan);
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.#release(), IDLE_MS).unref();
    return this.#buffer.subarray(0, length);
  }

  /** Unused for IDLE_MS: the memory goes (a loan still out keeps its own view of it alive). */
  #release(): void {
    this.#buffer = undefined;
    this.#lent = false;
    this.#loan++;
    collectGarbage();
  }
}
