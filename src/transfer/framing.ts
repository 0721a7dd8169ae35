/**
 * Frames of both daskflow channels (docs/bridge-protocol.md): a 4-byte big-endian length, then one MessagePack map.
 * Large values must move in time linear in their size, with as few copies as possible: a 100 MiB result crosses
 * this code twice on its way to the flow process. So large binary values are written by reference (never copied
 * into the frame), and a frame's body is copied once out of the chunks it arrives in.
 *
 * Between a Dask worker and its sidecar (Linux), values of 1 MiB or more skip the pipe: they go through a side file
 * each way (a memfd the worker opens, fds 5 and 6; python/daskflow_bridge/transfer/framing.py), and the frame holds a
 * reference (MessagePack ext: offset and length as big-endian u64). A pipe moves 100 MiB in ~100 turns between the
 * two processes, each a wait to be scheduled; the side file in one write and one read. Requests start at offset 0
 * and the reader empties the file after each frame (one request with side data is in flight at a time); replies in
 * `keep` mode are append-only, so the worker can keep a result's pages as the result (mapped_replies.py).
 * docs/bridge-protocol.md §3 has the whole story, with inputs read in place (process-memory.ts).
 */
import { ftruncateSync, readSync, writeSync } from "node:fs";
import { Decoder, Encoder, ExtensionCodec } from "@msgpack/msgpack";
import { TextPart, ValueParts, partBytes } from "./value-bytes.ts";

/** Binary values of at least this size are written as their own part of a frame, not copied into it. */
const BY_REFERENCE = 64 * 1024;
/** Frames of at least this size get a decoder (or encoder) of their own, dropped with them: a shared one keeps its
 * last input (or its largest buffer) alive. */
const LARGE = 1024 * 1024;
const MAX_FRAME = 2 ** 32 - 1;
const SIDE_EXT = 1;
/** Ext type of a side-file value the reader keeps where it is (maps), in a reply side file in `keep` mode. */
const KEPT_EXT = 4;
/** Where kept values start in the reply side file: a multiple of any page size (4 KiB, 16 KiB, 64 KiB), as mmap needs. */
const KEEP_ALIGN = 64 * 1024;
/** MessagePack ext type of a reference to a file of the sender's (the bridge's value files; sender-files.ts). */
export const SENDER_FILE_EXT = 2;
/** MessagePack ext type of a value to read from the sender's memory (a worker's by its sidecar, the bridge's by the
 * flow process; process-memory.ts). */
export const MEMORY_EXT = 3;
/** Decodes the payload of one ext type into the value's bytes. */
type ExtReader = (payload: Uint8Array) => Uint8Array;
/** Binary values of at least this size go through the side file when the channel has one. */
const SIDE_MIN = 1024 * 1024;

/** One direction's side file: the writer puts values in it, the reader takes them and empties it. */
export class SideFile {
  #end = 0;
  #used = false;
  #ext = SIDE_EXT;
  #reuse: [number, number][] = [];
  /** Bytes written and read through this file so far (src/transfer/release-memory.ts). */
  moved = 0;

  /** `keep`: the reader maps what it is told to keep (python/daskflow_bridge/transfer/mapped_replies.py), so values are never
   * written over: each goes after the last, at a KEEP_ALIGN boundary, and the reader frees each range itself. */
  constructor(
    readonly fd: number,
    readonly keep = false,
  ) {}

  /** The side files of a sidecar's channel from its environment (`"requests,replies"` fds, then `keep` when the
   * worker maps the replies it keeps), if it has them. */
  static fromEnv(value: string | undefined): { requests: SideFile; replies: SideFile } | undefined {
    const [requests, replies, mode] = (value ?? "").split(",");
    const fds = [Number(requests), Number(replies)];
    if (!fds.every((fd) => Number.isInteger(fd) && fd > 2) || (mode !== undefined && mode !== "keep")) return undefined;
    return { requests: new SideFile(fds[0]!), replies: new SideFile(fds[1]!, mode === "keep") };
  }

  /** For the next frame: whether the reader is to keep its values where they are (a task's result, a partition's)
   * rather than copy them out. Returns this side file. */
  toKeep(keep: boolean): this {
    this.#ext = this.keep && keep ? KEPT_EXT : SIDE_EXT;
    return this;
  }

  /** Freed ranges (`[offset, length]`) the worker offers for the current request's values (keep mode): pages
   * written before, so writing them costs no page faults (python/daskflow_bridge/transfer/mapped_replies.py). */
  offer(ranges: [number, number][] | undefined): void {
    this.#reuse = this.keep && Array.isArray(ranges) ? ranges.filter(([o, n]) => Number.isSafeInteger(o) && Number.isSafeInteger(n) && o % KEEP_ALIGN === 0) : [];
  }

  /** Writes `bytes` (one value, perhaps in parts) after the message's earlier values (keep mode: into the smallest
   * offered range it fits, else after the last value); the ext payload that refers to them. */
  put(bytes: Uint8Array | ValueParts): Uint8Array {
    const parts = bytes instanceof ValueParts ? bytes.parts : [bytes];
    const length = bytes.byteLength;
    let at: number;
    const fit = this.keep ? this.#bestFit(length) : -1;
    if (fit >= 0) {
      at = this.#reuse[fit]![0];
      this.#reuse.splice(fit, 1);
    } else {
      if (this.keep) this.#end = Math.ceil(this.#end / KEEP_ALIGN) * KEEP_ALIGN;
      at = this.#end;
      this.#end += length;
    }
    let position = at;
    const write = (part: Uint8Array) => {
      for (let done = 0; done < part.byteLength; ) done += writeSync(this.fd, part, done, part.byteLength - done, position + done);
      position += part.byteLength;
    };
    for (const part of parts) {
      if (part instanceof TextPart) part.writeChunks(write); // a string straight into the file, never copied whole
      else write(part);
    }
    this.moved += length;
    return reference(this.#ext, at, length);
  }

  #bestFit(length: number): number {
    let best = -1;
    this.#reuse.forEach(([, n], i) => {
      if (n >= length && (best < 0 || n < this.#reuse[best]![1])) best = i;
    });
    return best;
  }

  begin(): void {
    if (!this.keep) this.#end = 0;
  }

  get(payload: Uint8Array): Buffer {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const offset = Number(view.getBigUint64(0));
    const out = readValue(this.fd, offset, Number(view.getBigUint64(8)), "The side file");
    this.#used = true;
    this.moved += out.byteLength;
    return out;
  }

  /** After a frame is decoded: frees the memory of the values it read. */
  clear(): void {
    if (!this.#used) return;
    this.#used = false;
    ftruncateSync(this.fd, 0);
  }
}

/** `length` bytes of file `fd` from `offset`, in memory of their own (not Node's pool: views decoded from them may
 * outlive the frame). `what` names the file in the error when it is shorter. */
export function readValue(fd: number, offset: number, length: number, what: string): Buffer {
  const out = Buffer.allocUnsafeSlow(length);
  readInto(fd, offset, out, what);
  return out;
}

/** Fills `out` with the bytes of file `fd` from `offset`. */
export function readInto(fd: number, offset: number, out: Uint8Array, what: string): void {
  for (let done = 0; done < out.byteLength; ) {
    const got = readSync(fd, out, done, out.byteLength - done, offset + done);
    if (got === 0) throw new RangeError(`${what} ends at ${offset + done}, before the ${out.byteLength} bytes a frame refers to.`);
    done += got;
  }
}

function reference(type: number, offset: number, length: number): Uint8Array {
  const ext = new Uint8Array(18);
  ext[0] = 0xd8; // fixext 16
  ext[1] = type;
  const view = new DataView(ext.buffer);
  view.setBigUint64(2, BigInt(offset));
  view.setBigUint64(10, BigInt(length));
  return ext;
}

const options = { ignoreUndefined: true } as const;
let encoder = new Encoder(options);
const decoder = new Decoder();

/** One frame as a list of parts to write in order (large binary values among them by reference, or in `side`). */
export function encodeFrameParts(message: object, side?: SideFile): Uint8Array[] {
  if (!holdsLarge(message)) return [encodeSmallFrame(message)];
  const parts = new Parts();
  parts.small(new Uint8Array(4)); // the length, filled in below
  side?.begin();
  emit(message, parts, side);
  const frame = parts.done();
  const length = frame.reduce((n, p) => n + p.byteLength, 0) - 4;
  if (length > MAX_FRAME) throw new RangeError(`A daskflow frame cannot exceed 4 GiB (this one is ${length} bytes).`);
  new DataView(frame[0]!.buffer, frame[0]!.byteOffset, 4).setUint32(0, length);
  return frame;
}

/** One frame in one buffer (a copy of any large binary value in it; prefer encodeFrameParts for those). */
export function encodeFrame(message: object): Buffer {
  const parts = encodeFrameParts(message);
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

function encodeSmallFrame(message: object): Buffer {
  const body = encoder.encodeSharedRef(message);
  if (body.byteLength > MAX_FRAME) throw new RangeError(`A daskflow frame cannot exceed 4 GiB (this one is ${body.byteLength} bytes).`);
  const frame = Buffer.allocUnsafe(4 + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  frame.set(body, 4);
  if (body.byteLength >= LARGE) encoder = new Encoder(options); // let the grown buffer go
  return frame;
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A binary value written as its own part(s): a large view, or a value's bytes in parts (value-bytes.ts). */
function isLargeBinary(value: unknown): value is ArrayBufferView | ValueParts {
  return (ArrayBuffer.isView(value) && value.byteLength >= BY_REFERENCE) || value instanceof ValueParts;
}

/** Whether `value` is, or holds in its arrays and plain objects, a large binary value. */
function holdsLarge(value: unknown, depth = 0): boolean {
  if (isLargeBinary(value)) return true;
  if (depth > 8 || !isContainer(value)) return false; // frames hold large binaries near the top (envelopes, deps)
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (holdsLarge(v, depth + 1)) return true;
  return false;
}

/** MessagePack of `value`, exactly as the Encoder writes it, with large binaries as parts of their own. */
function emit(value: unknown, parts: Parts, side: SideFile | undefined): void {
  if (side && isLargeBinary(value) && value.byteLength >= SIDE_MIN) {
    parts.small(side.put(value instanceof ValueParts ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)));
  } else if (isLargeBinary(value)) {
    parts.small(binHeader(value.byteLength));
    for (const part of value instanceof ValueParts ? value.parts : [new Uint8Array(value.buffer, value.byteOffset, value.byteLength)]) parts.large(partBytes(part));
  } else if (!holdsLarge(value)) {
    parts.small(encoder.encode(value));
  } else if (Array.isArray(value)) {
    parts.small(containerHeader(value.length, 0x90, 0xdc));
    for (const v of value) emit(v, parts, side);
  } else {
    // ignoreUndefined: map entries whose value is undefined are left out, as the Encoder does
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    parts.small(containerHeader(entries.length, 0x80, 0xde));
    for (const [k, v] of entries) {
      parts.small(encoder.encode(k));
      emit(v, parts, side);
    }
  }
}

function binHeader(length: number): Uint8Array {
  if (length < 0x100) return Uint8Array.of(0xc4, length);
  if (length < 0x10000) return Uint8Array.of(0xc5, length >> 8, length & 0xff);
  const h = new Uint8Array(5);
  h[0] = 0xc6;
  new DataView(h.buffer).setUint32(1, length);
  return h;
}

/** fixarray/fixmap (`fix` + n below 16), else the 16- or 32-bit form (`wide`, `wide + 1`). */
function containerHeader(n: number, fix: number, wide: number): Uint8Array {
  if (n < 16) return Uint8Array.of(fix + n);
  if (n < 0x10000) return Uint8Array.of(wide, n >> 8, n & 0xff);
  const h = new Uint8Array(5);
  h[0] = wide + 1;
  new DataView(h.buffer).setUint32(1, n);
  return h;
}

/** Small pieces are joined into one part between large ones, so a frame is a few parts (writev takes ≤ 1024). */
class Parts {
  readonly #out: Uint8Array[] = [];
  #pending: Uint8Array[] = [];

  small(bytes: Uint8Array): void {
    this.#pending.push(bytes);
  }

  large(bytes: Uint8Array): void {
    this.#flush();
    this.#out.push(bytes);
  }

  done(): Uint8Array[] {
    this.#flush();
    return this.#out;
  }

  #flush(): void {
    if (this.#pending.length) this.#out.push(Buffer.concat(this.#pending));
    this.#pending = [];
  }
}

/**
 * Incremental frame decoder: push chunks as they arrive, get whole messages. A frame that arrives whole inside one
 * chunk is decoded in place; one that spans chunks is copied once into a buffer of its size, allocated when its
 * length is known (never a re-concatenation per chunk, which is quadratic in the frame's size).
 */
export class FrameDecoder<T> {
  readonly #side: SideFile | undefined;
  readonly #decoder: Decoder | undefined;
  readonly #header = Buffer.alloc(4);
  #headerFilled = 0;
  #body: Buffer | undefined;
  #bodyFilled = 0;

  /** `side`: the channel's side file to read referenced values from; `senderFile`: reads a value the sender put
   * in a file of its own (ext type SENDER_FILE_EXT); `memory`: reads a value the sender holds in its own memory
   * (ext type MEMORY_EXT; process-memory.ts). */
  constructor(readers: { side?: SideFile; senderFile?: ExtReader; memory?: ExtReader } = {}) {
    const { side, senderFile, memory } = readers;
    this.#side = side;
    if (side || senderFile || memory) {
      const extensionCodec = new ExtensionCodec();
      if (side) extensionCodec.register({ type: SIDE_EXT, encode: () => null, decode: (payload) => side.get(payload) });
      if (senderFile) extensionCodec.register({ type: SENDER_FILE_EXT, encode: () => null, decode: senderFile });
      if (memory) extensionCodec.register({ type: MEMORY_EXT, encode: () => null, decode: memory });
      this.#decoder = new Decoder({ extensionCodec });
    }
  }

  /** Bytes received that are not yet part of a whole frame. */
  get pending(): number {
    return this.#headerFilled + this.#bodyFilled;
  }

  push(chunk: Uint8Array): T[] {
    const out: T[] = [];
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.#body) {
        const n = Math.min(this.#body.byteLength - this.#bodyFilled, chunk.byteLength - offset);
        this.#body.set(chunk.subarray(offset, offset + n), this.#bodyFilled);
        this.#bodyFilled += n;
        offset += n;
        if (this.#bodyFilled === this.#body.byteLength) {
          const body = this.#body;
          this.#body = undefined;
          this.#bodyFilled = 0;
          out.push(this.#decode(body));
        }
        continue;
      }
      if (this.#headerFilled > 0 || chunk.byteLength - offset < 4) {
        const n = Math.min(4 - this.#headerFilled, chunk.byteLength - offset);
        this.#header.set(chunk.subarray(offset, offset + n), this.#headerFilled);
        this.#headerFilled += n;
        offset += n;
        if (this.#headerFilled < 4) break;
        this.#headerFilled = 0;
        this.#startBody(this.#header.readUInt32BE(0));
        continue;
      }
      const size = new DataView(chunk.buffer, chunk.byteOffset + offset, 4).getUint32(0);
      offset += 4;
      if (chunk.byteLength - offset >= size) {
        out.push(this.#decode(chunk.subarray(offset, offset + size)));
        offset += size;
      } else {
        this.#startBody(size);
      }
    }
    return out;
  }

  #startBody(size: number): void {
    // Its own memory (not Node's shared pool): binary values decoded from it are views that may outlive the frame.
    this.#body = Buffer.allocUnsafeSlow(size);
    this.#bodyFilled = 0;
  }

  #decode(body: Uint8Array): T {
    if (!this.#decoder) return (body.byteLength >= LARGE ? new Decoder() : decoder).decode(body) as T;
    try {
      return this.#decoder.decode(body) as T;
    } finally {
      this.#side?.clear();
    }
  }
}
