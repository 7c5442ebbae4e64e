/**
 * struct nlattr — the netlink TLV. Header fields are in host byte order;
 * the payload's order depends on the family (rtnetlink: host, ctnetlink: BE).
 *
 *    0               2               4
 *   +---------------+---------------+---------------------+-----------+
 *   |   nla_len     |   nla_type    |  payload ...        | pad to 4  |
 *   +---------------+---------------+---------------------+-----------+
 *   nla_len  = 4 + payload length, never the trailing pad
 *   nla_type = bit 15 NLA_F_NESTED | bit 14 NLA_F_NET_BYTEORDER | bits 0-13 type
 *
 * Decoding goes through a table indexed by type (DESIGN rule 1): each entry
 * names the field and its kind (u32, string, nested table …). Unknown types are
 * skipped because kernels keep adding attributes. Encoding is from a list.
 */
import { DecodeError } from "../bytes/errors.ts";

export const NLA_HDRLEN = 4;
export const NLA_OFF_LEN = 0;
export const NLA_OFF_TYPE = 2;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = 0x3fff;

/** Netlink headers use the CPU's order; detected once, overridable per call for tests. */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** NLMSG_ALIGN / NLA_ALIGN: everything in netlink is padded to 4 bytes. */
export function align4(length: number): number {
  return (length + 3) & ~3;
}

/** One attribute as found in a buffer; `payload` shares memory with the input. */
export interface RawAttr {
  readonly type: number;
  readonly nested: boolean;
  readonly netByteOrder: boolean;
  readonly payload: Uint8Array;
  /** Offset of the attribute header inside the buffer given to readAttributes. */
  readonly offset: number;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Splits bytes[start, end) into attributes. A header that claims more than is
 * left, or less than its own size, is `badlen`; a missing final pad is fine.
 * `base` is added to error offsets so nested decodes report outer positions.
 */
export function readAttributes(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
  littleEndian = HOST_LITTLE_ENDIAN,
  base = 0,
): RawAttr[] {
  const view = viewOf(bytes);
  const out: RawAttr[] = [];
  let at = start;
  while (at < end) {
    if (end - at < NLA_HDRLEN) {
      throw new DecodeError(
        "badlen",
        `${end - at} stray bytes after the last attribute`,
        base + at,
      );
    }
    const length = view.getUint16(at + NLA_OFF_LEN, littleEndian);
    const rawType = view.getUint16(at + NLA_OFF_TYPE, littleEndian);
    if (length < NLA_HDRLEN || at + length > end) {
      throw new DecodeError(
        "badlen",
        `attribute type ${rawType & NLA_TYPE_MASK} length ${length}`,
        base + at,
      );
    }
    out.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      payload: bytes.subarray(at + NLA_HDRLEN, at + length),
      offset: at,
    });
    at += align4(length);
  }
  return out;
}

/** Where a payload sits, for error offsets, and which order host-order fields use. */
export interface AttrContext {
  readonly littleEndian: boolean;
  /** Offset of the payload in the outermost buffer being decoded. */
  readonly at: number;
}

/** How one attribute payload maps to a value. Methods (not properties) keep kinds covariant. */
export interface AttrKind<V> {
  readonly label: string;
  readonly nested?: boolean;
  decode(payload: Uint8Array, ctx: AttrContext): V;
  encode(value: V, littleEndian: boolean): Uint8Array;
}

export interface AttrSpec<N extends string = string, V = unknown> {
  readonly name: N;
  readonly kind: AttrKind<V>;
}

/** Attribute type number -> field name and kind. */
export type AttrTable = { readonly [type: number]: AttrSpec<string, unknown> };

/** The object decodeAttributes returns for a table: every field optional. */
export type DecodedAttrs<T extends AttrTable> = {
  -readonly [K in keyof T as T[K] extends AttrSpec<infer N, unknown> ? N : never]?: T[K] extends
    AttrSpec<string, infer V> ? V : never;
};

/** Table entry helper that keeps the literal field name for DecodedAttrs. */
export function field<N extends string, V>(name: N, kind: AttrKind<V>): AttrSpec<N, V> {
  return { name, kind };
}

export interface DecodeAttrOptions {
  readonly start?: number;
  readonly end?: number;
  readonly littleEndian?: boolean;
  /** Added to every error offset, so nested decodes report outer-buffer positions. */
  readonly base?: number;
}

/** Decodes the attributes of bytes[start, end) through `table`; the last duplicate wins. */
export function decodeAttributes<T extends AttrTable>(
  bytes: Uint8Array,
  table: T,
  options: DecodeAttrOptions = {},
): DecodedAttrs<T> {
  const littleEndian = options.littleEndian ?? HOST_LITTLE_ENDIAN;
  const base = options.base ?? 0;
  const out: Record<string, unknown> = {};
  const start = options.start ?? 0;
  const end = options.end ?? bytes.length;
  for (const attr of readAttributes(bytes, start, end, littleEndian, base)) {
    const spec = table[attr.type];
    if (spec === undefined) continue;
    out[spec.name] = spec.kind.decode(attr.payload, {
      littleEndian,
      at: base + attr.offset + NLA_HDRLEN,
    });
  }
  return out as DecodedAttrs<T>;
}

/** One attribute to encode; build with `nla`, `nlaNest` or `nlaRaw`. */
export interface AttrNode {
  readonly type: number;
  readonly nested: boolean;
  readonly netByteOrder: boolean;
  payload(littleEndian: boolean): Uint8Array;
}

export function nla<V>(type: number, kind: AttrKind<V>, value: V, netByteOrder = false): AttrNode {
  return {
    type,
    nested: kind.nested === true,
    netByteOrder,
    payload: (littleEndian) => kind.encode(value, littleEndian),
  };
}

export function nlaNest(type: number, children: readonly AttrNode[]): AttrNode {
  return {
    type,
    nested: true,
    netByteOrder: false,
    payload: (littleEndian) => encodeAttributes(children, littleEndian),
  };
}

export function nlaRaw(type: number, bytes: Uint8Array): AttrNode {
  return { type, nested: false, netByteOrder: false, payload: () => bytes };
}

/** Concatenates attributes with zeroed padding; each header gets the flags its node asks for. */
export function encodeAttributes(
  nodes: readonly AttrNode[],
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  const payloads = nodes.map((node) => node.payload(littleEndian));
  const total = payloads.reduce((sum, p) => sum + align4(NLA_HDRLEN + p.length), 0);
  const out = new Uint8Array(total);
  const view = viewOf(out);
  let at = 0;
  nodes.forEach((node, i) => {
    const length = NLA_HDRLEN + payloads[i].length;
    if (length > 0xffff) {
      throw new RangeError(`attribute type ${node.type}: ${length} bytes > 65535`);
    }
    if (node.type > NLA_TYPE_MASK) throw new RangeError(`attribute type ${node.type} > 0x3fff`);
    const flags = (node.nested ? NLA_F_NESTED : 0) | (node.netByteOrder ? NLA_F_NET_BYTEORDER : 0);
    view.setUint16(at + NLA_OFF_LEN, length, littleEndian);
    view.setUint16(at + NLA_OFF_TYPE, node.type | flags, littleEndian);
    out.set(payloads[i], at + NLA_HDRLEN);
    at += align4(length);
  });
  return out;
}

/** Turns a decoded object back into nodes, in ascending type order (round-trips). */
export function attributesFromTable<T extends AttrTable>(
  table: T,
  values: DecodedAttrs<T>,
): AttrNode[] {
  const record = values as Record<string, unknown>;
  const nodes: AttrNode[] = [];
  for (const key of Object.keys(table).map(Number).sort((a, b) => a - b)) {
    const spec = table[key];
    const value = record[spec.name];
    if (value !== undefined) nodes.push(nla(key, spec.kind, value));
  }
  return nodes;
}
