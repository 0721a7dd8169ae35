/**
 * V8's structured serialization with large typed arrays and large strings kept out of its buffer. `v8.serialize`
 * copies every typed array and string into the one buffer it grows; for a 100 MiB result that copy (and the growing,
 * into fresh memory) is a large part of the time a value takes to leave a sidecar. Here a typed array of at least
 * OUT_OF_BAND bytes is written as a reference to a part of its own, and the value's bytes are a list of parts
 * (`ValueParts`) that channels write as they are (writev, or into the side file) and Python carries as one opaque
 * `bytes`. Decoding gives views into the bytes received, no copy.
 *
 * A large string is a part too (`TextPart`, written in chunks through a small buffer: never a second copy of the
 * whole string), at the places serializeValue's `lifts` name (members of plain objects and arrays anywhere in the
 * value, found by the search for class instances: liftInto). V8 offers no hook for strings, so the string's place is
 * set to null while V8 writes (synchronously; put back at once), and a table of `[holder, key, part, encoding]`
 * written after the value (same serializer, so `holder` is the same object on decode) says where each goes back.
 *
 * Layout when a value has such parts (little-endian): "\0DFP" (typed arrays only), "\0DFT" (a table of strings
 * follows the value) or "\0DFS" (the same, and every part is a string: a reader may put the parts in memory it
 * reuses, since decoding copies them into strings; splitAt), u32 count, u32 length of the V8 bytes, then count ×
 * (f64 offset, f64 length) of each part from the start, the V8 bytes, each part at an 8-aligned offset. Values
 * without large parts are V8's bytes exactly (they start with 0xFF), so all kinds decode here.
 */
import { DefaultDeserializer, DefaultSerializer } from "node:v8";
import { isProxy } from "node:util/types";

/** Typed arrays of at least this size travel as parts of their own. */
export const OUT_OF_BAND = 1024 * 1024;
const MAGIC = [0x00, 0x44, 0x46, 0x50]; // "\0DFP"
const TEXT_TAG = 0x54; // "T" in place of "P": the V8 bytes hold the value, then its table of strings
const STRINGS_TAG = 0x53; // "S": as "T", and every part is a string
/** Strings of at least this many characters (where serializeValue's `lifts` name them) travel as parts. */
export const OUT_OF_BAND_TEXT = 1024 * 1024;
/** A text part's encoding in the table: one byte per character (every code unit below 256), or UTF-16LE. */
const LATIN1 = 1;
const UTF16 = 2;
/** Characters converted at a time when a text part is written in chunks (its bytes: 4 MiB at most). */
const TEXT_CHUNK = 2 * 1024 * 1024;
/** Our host-object tags: a view type (its index below), plus PART when the bytes are a part of their own. */
const PART = 0x100;
const VIEW_TYPES = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView, Buffer,
] as const;
type ViewType = (typeof VIEW_TYPES)[number];
const BUFFER_TYPE = VIEW_TYPES.indexOf(Buffer);
type AnyView = new (buffer: ArrayBufferLike, byteOffset?: number, length?: number) => ArrayBufferView;
const TYPE_BY_TAG = new Map<string, number>(VIEW_TYPES.slice(0, BUFFER_TYPE).map((t, i) => [Object.prototype.toString.call(new (t as AnyView)(new ArrayBuffer(8))), i]));
/** Node's own writing of a view (the @types do not declare the hook). */
const defaultWrite = (DefaultSerializer.prototype as unknown as { _writeHostObject: (this: DefaultSerializer, view: object) => void })._writeHostObject;

/** A large string as a part: its characters, one byte each when they all fit (V8 holds such strings that way). */
export class TextPart {
  readonly encoding: "latin1" | "utf16le";
  readonly byteLength: number;

  constructor(readonly text: string) {
    // Instant for a string V8 holds one byte per character (the regexp cannot match one), a scan otherwise.
    this.encoding = /[^\x00-\xff]/.test(text) ? "utf16le" : "latin1";
    this.byteLength = text.length * (this.encoding === "latin1" ? 1 : 2);
  }

  /** The bytes in one buffer of their own (a copy of the string). */
  bytes(): Buffer {
    return Buffer.from(this.text, this.encoding);
  }

  /** The bytes in order, a few MiB at a time in one reused buffer (valid only during each call of `write`). */
  writeChunks(write: (chunk: Uint8Array) => void): void {
    const chunk = scratch(TEXT_CHUNK * (this.encoding === "latin1" ? 1 : 2));
    for (let i = 0; i < this.text.length; i += TEXT_CHUNK) {
      const piece = this.text.slice(i, i + TEXT_CHUNK); // a view of the string in V8, not a copy
      write(chunk.subarray(0, chunk.write(piece, 0, this.encoding)));
    }
  }
}

/** A part's bytes in one buffer: itself, or a text part's copy (for a channel that writes parts as they are). */
export function partBytes(part: Part): Uint8Array {
  return part instanceof TextPart ? part.bytes() : part;
}

/** Whether `value` is a string long enough to travel as a part of its own. */
export function isLargeText(value: unknown): value is string {
  return typeof value === "string" && value.length >= OUT_OF_BAND_TEXT;
}

let scratchBuffer: Buffer | undefined;
/** The buffer text parts are written through: allocated once per process (its pages stay warm). */
function scratch(size: number): Buffer {
  if (!scratchBuffer || scratchBuffer.byteLength < size) scratchBuffer = Buffer.allocUnsafeSlow(size);
  return scratchBuffer;
}

export type Part = Uint8Array | TextPart;

/** A value's bytes in order: the header and V8 bytes, then each large typed array as it is in memory, each large
 * string as a TextPart. */
export class ValueParts {
  constructor(readonly parts: readonly Part[], readonly byteLength: number) {}

  /** One buffer (a copy of every part). */
  concat(): Buffer {
    return Buffer.concat(this.parts.map(partBytes), this.byteLength);
  }
}

export type ValueBytes = Buffer | ValueParts;

class Serializer extends DefaultSerializer {
  readonly large: ArrayBufferView[] = [];

  /** Called by V8 for every typed array and DataView (DefaultSerializer treats them as host objects). */
  _writeHostObject(view: object): void {
    const v = view as ArrayBufferView;
    const type = Buffer.isBuffer(v) ? BUFFER_TYPE : (TYPE_BY_TAG.get(Object.prototype.toString.call(v)) ?? -1);
    if (type < 0) return defaultWrite.call(this, view); // not a view we know: Node's own handling
    if (v.byteLength >= OUT_OF_BAND) {
      this.writeUint32(type | PART);
      this.writeUint32(this.large.push(v) - 1);
      return;
    }
    this.writeUint32(type);
    this.writeUint32(v.byteLength);
    this.writeRawBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
}

class Deserializer extends DefaultDeserializer {
  constructor(
    v8Bytes: Uint8Array,
    private readonly parts: readonly Uint8Array[],
  ) {
    super(Buffer.from(v8Bytes.buffer, v8Bytes.byteOffset, v8Bytes.byteLength));
  }

  _readHostObject(): unknown {
    const tag = this.readUint32();
    const type = VIEW_TYPES[tag & ~PART];
    if (!type) throw new Error(`daskflow: unknown typed-array tag ${tag} in a value's bytes (sender and receiver of different daskflow versions?)`);
    const bytes = tag & PART ? this.parts[this.readUint32()] : this.readRawBytes(this.readUint32());
    if (!bytes) throw new Error("daskflow: a value's bytes refer to a part they do not have");
    return view(type, bytes);
  }
}

/** A view of `type` over `bytes` without a copy when aligned for it (else over an aligned copy). */
function view(type: ViewType, bytes: Uint8Array): unknown {
  if (type === Buffer) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = "BYTES_PER_ELEMENT" in type ? type.BYTES_PER_ELEMENT : 1;
  const source = bytes.byteOffset % size === 0 ? bytes : Uint8Array.prototype.slice.call(bytes);
  return new (type as AnyView)(source.buffer, source.byteOffset, source.byteLength / size);
}

/** A place holding a large string that is lifted out of the value while V8 writes it (then put back). */
export type Lift = readonly [holder: Record<string, unknown>, key: string];

/**
 * Collects into `lifts` the places (from the search for class instances, class-codec.ts) where a large string can be
 * lifted out and put back with nobody the wiser: writable, enumerable own data properties of an object that is
 * neither frozen nor a Proxy (whose traps would see the change). Identity is kept (the object itself is written, no
 * copy), so cycles and shared references decode as before.
 */
export function liftInto(lifts: Lift[]): (holder: Record<string, unknown>, key: string) => void {
  return (holder, key) => {
    if (isProxy(holder) || Object.isFrozen(holder)) return;
    const d = Object.getOwnPropertyDescriptor(holder, key);
    if (d && "value" in d && d.writable && d.enumerable) lifts.push([holder, key]);
  };
}

/** The bytes of `value`. Throws what `v8.serialize` throws for what it cannot copy. The large strings at `lifts`
 * (liftInto's) are written as parts of their own. */
export function serializeValue(value: unknown, lifts: readonly Lift[] = []): ValueBytes {
  const s = new Serializer();
  const textParts: TextPart[] = [];
  try {
    for (const [holder, key] of lifts) {
      textParts.push(new TextPart(holder[key] as string));
      holder[key] = null;
    }
    s.writeHeader();
    s.writeValue(value);
    // Where each string goes back; text parts come after the typed arrays' (known only now).
    if (textParts.length) s.writeValue(textParts.map((p, i) => [...lifts[i]!, s.large.length + i, p.encoding === "latin1" ? LATIN1 : UTF16]));
  } finally {
    textParts.forEach((p, i) => (lifts[i]![0][lifts[i]![1]] = p.text));
  }
  const v8Bytes = s.releaseBuffer();
  const large: Part[] = [...s.large.map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength)), ...textParts];
  if (large.length === 0) return v8Bytes;
  const head = Buffer.alloc(12 + 16 * large.length);
  head.set(MAGIC, 0);
  if (textParts.length) head[3] = textParts.length === large.length ? STRINGS_TAG : TEXT_TAG;
  head.writeUInt32LE(large.length, 4);
  head.writeUInt32LE(v8Bytes.byteLength, 8);
  const out: Part[] = [head, v8Bytes];
  let offset = head.byteLength + v8Bytes.byteLength;
  large.forEach((part, i) => {
    const pad = (8 - (offset % 8)) % 8;
    if (pad) out.push(new Uint8Array(pad));
    offset += pad;
    head.writeDoubleLE(offset, 12 + 16 * i);
    head.writeDoubleLE(part.byteLength, 20 + 16 * i);
    out.push(part);
    offset += part.byteLength;
  });
  return new ValueParts(out, offset);
}

function hasParts(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 12 && MAGIC.every((b, i) => bytes[i] === b || (i === 3 && hasTextTable(bytes)));
}

/** Whether a table of strings follows the value in V8's bytes (the tag of a value with parts). */
function hasTextTable(bytes: Uint8Array): boolean {
  return bytes[3] === TEXT_TAG || bytes[3] === STRINGS_TAG;
}

/** The parts of values read as two pieces (splitAt, joinSplit): the bytes before the first part -> the parts'. */
const tails = new WeakMap<Uint8Array, Uint8Array>();

/**
 * Where a reader of a value's `length` bytes, of which it has read the first 12 (`start`), may split them: the
 * offset of the first part when every part is a string ("\0DFS"), else undefined. The bytes before it are read into
 * memory of the value's own, the rest anywhere (the decoded strings are copies), joined by `joinSplit`.
 */
export function splitAt(start: Uint8Array, length: number): number | undefined {
  if (start.byteLength < 12 || start[3] !== STRINGS_TAG || !hasParts(start)) return undefined;
  const head = Buffer.from(start.buffer, start.byteOffset, 12);
  const end = 12 + 16 * head.readUInt32LE(4) + head.readUInt32LE(8);
  const first = end + ((8 - (end % 8)) % 8);
  return first < length ? first : undefined;
}

/** A value's bytes from the two pieces of splitAt: `before` (the head and V8's bytes), `parts` (all after). */
export function joinSplit(before: Uint8Array, parts: Uint8Array): Uint8Array {
  tails.set(before, parts);
  return before;
}

/** The `length` bytes of a value at `offset` from its start, also when it was read as two pieces. */
function bytesAt(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  const tail = offset >= bytes.byteLength ? tails.get(bytes) : undefined;
  const from = tail ?? bytes;
  const at = tail ? offset - bytes.byteLength : offset;
  if (at + length > from.byteLength) throw new Error("daskflow: a value's bytes end before a part they refer to");
  return from.subarray(at, at + length);
}

/** The V8 bytes inside `bytes` (all of them for a value without parts). */
export function v8Region(bytes: Uint8Array): Uint8Array {
  if (!hasParts(bytes)) return bytes;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = head.readUInt32LE(4);
  const start = 12 + 16 * count;
  return bytes.subarray(start, start + head.readUInt32LE(8));
}

/** The value in `bytes` (from serializeValue, joined into one buffer); its large typed arrays are views into it. */
export function deserializeValue(bytes: Uint8Array): unknown {
  let parts: Uint8Array[] = [];
  const withParts = hasParts(bytes);
  if (withParts) {
    const head = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    parts = Array.from({ length: head.readUInt32LE(4) }, (_, i) => bytesAt(bytes, head.readDoubleLE(12 + 16 * i), head.readDoubleLE(20 + 16 * i)));
  }
  const d = new Deserializer(v8Region(bytes), parts);
  d.readHeader();
  const value: unknown = d.readValue();
  if (withParts && hasTextTable(bytes)) {
    for (const [holder, key, index, encoding] of d.readValue() as [Record<string, unknown>, string, number, number][]) {
      const part = parts[index];
      if (!part || (encoding !== LATIN1 && encoding !== UTF16)) throw new Error("daskflow: a value's bytes refer to a string part they do not have");
      const text = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
      holder[key] = text.toString(encoding === LATIN1 ? "latin1" : "utf16le");
    }
  }
  return value;
}
