/**
 * Payload kinds for attribute tables: fixed-width integers in host order
 * (rtnetlink) or big-endian (ctnetlink), NUL-terminated strings, raw bytes,
 * flags and nested tables. Each checks the payload size exactly, because a
 * size mismatch means we and the kernel disagree on the layout (`badlen`).
 */
import { DecodeError } from "../bytes/errors.ts";
import {
  type AttrContext,
  attributesFromTable,
  type AttrKind,
  type AttrTable,
  decodeAttributes,
  type DecodedAttrs,
  encodeAttributes,
} from "./nlattr.ts";

function exactly(payload: Uint8Array, size: number, label: string, ctx: AttrContext): DataView {
  if (payload.length !== size) {
    throw new DecodeError("badlen", `${label} needs ${size} bytes, got ${payload.length}`, ctx.at);
  }
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
}

function sized(size: number): [Uint8Array, DataView] {
  const out = new Uint8Array(size);
  return [out, new DataView(out.buffer)];
}

/** `bigEndian` undefined = host order (taken from the context at run time). */
function integer(
  size: 1 | 2 | 4,
  bigEndian: boolean | undefined,
  signed = false,
): AttrKind<number> {
  const label = `${signed ? "s" : "u"}${size * 8}${bigEndian ? "be" : ""}`;
  return {
    label,
    decode(payload, ctx) {
      const view = exactly(payload, size, label, ctx);
      const le = bigEndian === undefined ? ctx.littleEndian : !bigEndian;
      if (size === 1) return signed ? view.getInt8(0) : view.getUint8(0);
      if (size === 2) return signed ? view.getInt16(0, le) : view.getUint16(0, le);
      return signed ? view.getInt32(0, le) : view.getUint32(0, le);
    },
    encode(value, littleEndian) {
      const [out, view] = sized(size);
      const le = bigEndian === undefined ? littleEndian : !bigEndian;
      if (size === 1) view.setUint8(0, value & 0xff);
      else if (size === 2) view.setUint16(0, value & 0xffff, le);
      else if (signed) view.setInt32(0, value, le);
      else view.setUint32(0, value >>> 0, le);
      return out;
    },
  };
}

function integer64(bigEndian: boolean | undefined): AttrKind<bigint> {
  const label = bigEndian ? "u64be" : "u64";
  return {
    label,
    decode(payload, ctx) {
      const le = bigEndian === undefined ? ctx.littleEndian : !bigEndian;
      return exactly(payload, 8, label, ctx).getBigUint64(0, le);
    },
    encode(value, littleEndian) {
      const [out, view] = sized(8);
      view.setBigUint64(0, value, bigEndian === undefined ? littleEndian : !bigEndian);
      return out;
    },
  };
}

export const u8: AttrKind<number> = integer(1, undefined);
export const u16: AttrKind<number> = integer(2, undefined);
export const u32: AttrKind<number> = integer(4, undefined);
export const s32: AttrKind<number> = integer(4, undefined, true);
export const u64: AttrKind<bigint> = integer64(undefined);
export const u16be: AttrKind<number> = integer(2, true);
export const u32be: AttrKind<number> = integer(4, true);
export const u64be: AttrKind<bigint> = integer64(true);

/** NUL-terminated text (NLA_NUL_STRING); decoding stops at the first NUL, tolerating none. */
export const nulString: AttrKind<string> = {
  label: "string",
  decode(payload) {
    const nul = payload.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? payload : payload.subarray(0, nul));
  },
  encode(value) {
    const text = new TextEncoder().encode(value);
    const out = new Uint8Array(text.length + 1);
    out.set(text);
    return out;
  },
};

/** Raw bytes, copied on decode so the result outlives the receive buffer. */
export const bytes: AttrKind<Uint8Array> = {
  label: "bytes",
  decode: (payload) => payload.slice(),
  encode: (value) => value,
};

/** Raw bytes whose length must be one of `lengths` (addresses: 4 or 16, MAC: 6 …). */
export function bytesOf(...lengths: number[]): AttrKind<Uint8Array> {
  const label = `bytes(${lengths.join("|")})`;
  return {
    label,
    decode(payload, ctx) {
      if (!lengths.includes(payload.length)) {
        throw new DecodeError("badlen", `${label} got ${payload.length} bytes`, ctx.at);
      }
      return payload.slice();
    },
    encode: (value) => value,
  };
}

/** NLA_FLAG: presence is the value, the payload is empty. */
export const flag: AttrKind<true> = {
  label: "flag",
  decode(payload, ctx) {
    exactly(payload, 0, "flag", ctx);
    return true;
  },
  encode: () => new Uint8Array(0),
};

/** A nest decoded through its own table; encoded with NLA_F_NESTED set. */
export function nested<T extends AttrTable>(table: T): AttrKind<DecodedAttrs<T>> {
  return {
    label: "nested",
    nested: true,
    decode: (payload, ctx) =>
      decodeAttributes(payload, table, { littleEndian: ctx.littleEndian, base: ctx.at }),
    encode: (value, littleEndian) =>
      encodeAttributes(attributesFromTable(table, value), littleEndian),
  };
}
