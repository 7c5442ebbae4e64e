/**
 * The attribute plumbing the ctnetlink codec is built from: handler tables
 * dispatched per attribute type, payload readers, and a writer that nests.
 *
 *   struct nlattr (host order header, 4-byte aligned)
 *   0      2      4
 *   +------+------+-----------------------+---------+
 *   |nla_len|nla_type| payload (len - 4)  | pad→4   |
 *   +------+------+-----------------------+---------+
 *   nla_type: bits 0-13 type, 0x8000 NESTED, 0x4000 NET_BYTEORDER
 *
 * Header fields are host order (HOST_LITTLE_ENDIAN, detected at start-up);
 * ctnetlink payloads are big-endian except u8 values and the TCP flag pair.
 * nlattr.ts holds the generic codec; this file is ctnetlink's hot path.
 * Decoding walks a run with the same checks and errors as nlattr.ts's
 * `readAttributes` but dispatches each attribute in place to a per-nest
 * handler table, which writes straight into the record (tuples and NAT ranges
 * flatten two nests into one object) — no intermediate attribute objects, as
 * events arrive tens of thousands a second. Encoding fills one growable
 * buffer in the kernel's attribute order: the create path is as hot, and the
 * verified vectors fix an order that a list encoder sorted by type cannot
 * reproduce.
 */
import { DecodeError } from "../bytes/errors.ts";
import { align4, HOST_LITTLE_ENDIAN, NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK } from "./nlattr.ts";

/** Writable view of a decoded record while its table fills it in. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A handler receives the attribute payload (a view, no copy), the absolute
 * offset of the payload for error reports, and the record being filled.
 */
export type AttrHandler<T> = (payload: Uint8Array, at: number, into: Mutable<T>) => void;

/** Indexed by attribute type; holes are attributes we skip (the kernel ignores unknown ones too). */
export type AttrTable<T> = readonly (AttrHandler<T> | undefined)[];

/**
 * Walk the attributes in `bytes[start, end)` and dispatch each through
 * `table`. `base` is added to offsets in errors so they point into the
 * whole message.
 */
export function decodeAttrs<T>(
  bytes: Uint8Array,
  start: number,
  end: number,
  table: AttrTable<T>,
  into: Mutable<T>,
  base = 0,
): Mutable<T> {
  // Same walk and the same errors as nlattr.ts's readAttributes, without building an
  // array of attribute objects: events arrive tens of thousands a second.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = start;
  while (at < end) {
    if (end - at < NLA_HDRLEN) {
      throw new DecodeError(
        "badlen",
        `${end - at} stray bytes after the last attribute`,
        base + at,
      );
    }
    const length = view.getUint16(at, HOST_LITTLE_ENDIAN);
    const type = view.getUint16(at + 2, HOST_LITTLE_ENDIAN) & NLA_TYPE_MASK;
    if (length < NLA_HDRLEN || at + length > end) {
      throw new DecodeError("badlen", `attribute type ${type} length ${length}`, base + at);
    }
    const handler = table[type];
    if (handler) {
      handler(bytes.subarray(at + NLA_HDRLEN, at + length), base + at + NLA_HDRLEN, into);
    }
    at += align4(length);
  }
  return into;
}

/** Decode a nested attribute's payload through its own table into a fresh record. */
export function decodeNest<T>(payload: Uint8Array, at: number, table: AttrTable<T>): T {
  return decodeAttrs(payload, 0, payload.length, table, {} as Mutable<T>, at);
}

function need(payload: Uint8Array, size: number, at: number, what: string): DataView {
  if (payload.length < size) {
    throw new DecodeError("badlen", `${what}: ${payload.length}-byte payload, need ${size}`, at);
  }
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
}

export const readU8 = (p: Uint8Array, at: number, what: string): number =>
  need(p, 1, at, what).getUint8(0);
export const readBe16 = (p: Uint8Array, at: number, what: string): number =>
  need(p, 2, at, what).getUint16(0);
export const readBe32 = (p: Uint8Array, at: number, what: string): number =>
  need(p, 4, at, what).getUint32(0);
export const readBe64 = (p: Uint8Array, at: number, what: string): bigint =>
  need(p, 8, at, what).getBigUint64(0);

/** An address attribute must be exactly 4 or 16 bytes; copies so the record outlives the buffer. */
export function readAddress(p: Uint8Array, size: 4 | 16, at: number, what: string): Uint8Array {
  if (p.length !== size) {
    throw new DecodeError("badlen", `${what}: ${p.length}-byte address, need ${size}`, at);
  }
  return p.slice();
}

/** NUL-terminated (or unterminated) ASCII string payload. */
export function readString(p: Uint8Array): string {
  const nul = p.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? p : p.subarray(0, nul));
}

/**
 * Growable attribute writer. Nests are opened and closed explicitly; the
 * nest length includes its children's padding, as the kernel computes it.
 */
export class AttrWriter {
  bytes: Uint8Array;
  view: DataView;
  offset: number;

  constructor(initial: Uint8Array | number = 512, offset = 0) {
    this.bytes = typeof initial === "number" ? new Uint8Array(initial) : initial;
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.offset = offset;
  }

  private room(count: number): void {
    if (this.offset + count <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.offset + count + 64));
    grown.set(this.bytes.subarray(0, this.offset));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Write a raw attribute: header, payload, zero padding. */
  put(type: number, payload: Uint8Array): this {
    const total = align4(NLA_HDRLEN + payload.length);
    this.room(total);
    this.view.setUint16(this.offset, NLA_HDRLEN + payload.length, HOST_LITTLE_ENDIAN);
    this.view.setUint16(this.offset + 2, type, HOST_LITTLE_ENDIAN);
    this.bytes.set(payload, this.offset + NLA_HDRLEN);
    this.bytes.fill(0, this.offset + NLA_HDRLEN + payload.length, this.offset + total);
    this.offset += total;
    return this;
  }

  private scalar(type: number, size: number, set: (view: DataView, at: number) => void): this {
    const total = align4(NLA_HDRLEN + size);
    this.room(total);
    this.view.setUint16(this.offset, NLA_HDRLEN + size, HOST_LITTLE_ENDIAN);
    this.view.setUint16(this.offset + 2, type, HOST_LITTLE_ENDIAN);
    this.bytes.fill(0, this.offset + NLA_HDRLEN, this.offset + total);
    set(this.view, this.offset + NLA_HDRLEN);
    this.offset += total;
    return this;
  }

  u8(type: number, value: number): this {
    return this.scalar(type, 1, (v, at) => v.setUint8(at, value));
  }

  be16(type: number, value: number): this {
    return this.scalar(type, 2, (v, at) => v.setUint16(at, value));
  }

  be32(type: number, value: number): this {
    return this.scalar(type, 4, (v, at) => v.setUint32(at, value >>> 0));
  }

  be64(type: number, value: bigint): this {
    return this.scalar(type, 8, (v, at) => v.setBigUint64(at, value));
  }

  /** Two u8s in one attribute: the TCP `{flags, mask}` pair. */
  pair(type: number, first: number, second: number): this {
    return this.scalar(type, 2, (v, at) => {
      v.setUint8(at, first);
      v.setUint8(at + 1, second);
    });
  }

  string(type: number, text: string): this {
    const encoded = new TextEncoder().encode(text);
    const payload = new Uint8Array(encoded.length + 1);
    payload.set(encoded);
    return this.put(type, payload);
  }

  /** Open a nest (NLA_F_NESTED is always sent, §1.7 rule 1); returns the token for `end`. */
  begin(type: number): number {
    this.room(NLA_HDRLEN);
    const start = this.offset;
    this.view.setUint16(start + 2, type | NLA_F_NESTED, HOST_LITTLE_ENDIAN);
    this.offset += NLA_HDRLEN;
    return start;
  }

  end(start: number): this {
    this.view.setUint16(start, this.offset - start, HOST_LITTLE_ENDIAN);
    return this;
  }

  written(): Uint8Array {
    return this.bytes.subarray(0, this.offset);
  }
}
