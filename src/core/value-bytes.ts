/**
 * V8's structured serialization with large typed arrays kept out of its buffer. `v8.serialize` copies every typed
 * array into the one buffer it grows; for a 100 MiB result that copy (and the growing) is a large part of the time
 * a value takes to leave a sidecar. Here a typed array of at least OUT_OF_BAND bytes is written as a reference to a
 * part of its own, and the value's bytes are a list of parts (`ValueParts`) that channels write as they are (writev, or
 * into the side file) and Python carries as one opaque `bytes`. Decoding gives views into the bytes received, no copy.
 *
 * Layout when a value has such parts (little-endian): "\0DFP", u32 count, u32 length of the V8 bytes, then count ×
 * (f64 offset, f64 length) of each part from the start, the V8 bytes, each part at an 8-aligned offset. Values
 * without large typed arrays are V8's bytes exactly (they start with 0xFF), so both kinds decode here.
 */
import { DefaultDeserializer, DefaultSerializer } from "node:v8";

/** Typed arrays of at least this size travel as parts of their own. */
export const OUT_OF_BAND = 1024 * 1024;
const MAGIC = [0x00, 0x44, 0x46, 0x50]; // "\0DFP"
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

/** A value's bytes in order: the header and V8 bytes, then each large typed array as it is in memory. */
export class ValueParts {
  constructor(readonly parts: readonly Uint8Array[], readonly byteLength: number) {}

  /** One buffer (a copy of every part). */
  concat(): Buffer {
    return Buffer.concat(this.parts, this.byteLength);
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

/** The bytes of `value`. Throws what `v8.serialize` throws for what it cannot copy. */
export function serializeValue(value: unknown): ValueBytes {
  const s = new Serializer();
  s.writeHeader();
  s.writeValue(value);
  const v8Bytes = s.releaseBuffer();
  if (s.large.length === 0) return v8Bytes;
  const head = Buffer.alloc(12 + 16 * s.large.length);
  head.set(MAGIC, 0);
  head.writeUInt32LE(s.large.length, 4);
  head.writeUInt32LE(v8Bytes.byteLength, 8);
  const out: Uint8Array[] = [head, v8Bytes];
  let offset = head.byteLength + v8Bytes.byteLength;
  s.large.forEach((v, i) => {
    const pad = (8 - (offset % 8)) % 8;
    if (pad) out.push(new Uint8Array(pad));
    offset += pad;
    head.writeDoubleLE(offset, 12 + 16 * i);
    head.writeDoubleLE(v.byteLength, 20 + 16 * i);
    out.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    offset += v.byteLength;
  });
  return new ValueParts(out, offset);
}

function hasParts(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 12 && MAGIC.every((b, i) => bytes[i] === b);
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
  if (hasParts(bytes)) {
    const head = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    parts = Array.from({ length: head.readUInt32LE(4) }, (_, i) => {
      const offset = head.readDoubleLE(12 + 16 * i);
      return bytes.subarray(offset, offset + head.readDoubleLE(20 + 16 * i));
    });
  }
  const d = new Deserializer(v8Region(bytes), parts);
  d.readHeader();
  return d.readValue();
}
