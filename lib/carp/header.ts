/**
 * CARP advertisement header (`struct carp_header`, spec §1.2), 36 bytes, no
 * address list. All multi-byte fields are big-endian.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-------+-------+---------------+---------------+---------------+
 *   |version| type  |     vhid      |    advskew    |    authlen    |  0
 *   +-------+-------+---------------+---------------+---------------+
 *   |  pad1/demote  |    advbase    |           checksum            |  4
 *   +---------------+---------------+-------------------------------+
 *   |                     counter (high 32 bits)                    |  8
 *   +---------------------------------------------------------------+
 *   |                     counter (low 32 bits)                     | 12
 *   +---------------------------------------------------------------+
 *   |                  HMAC-SHA1 (20 bytes, 5 words)                | 16..35
 *   +---------------------------------------------------------------+
 *
 * The checksum is RFC 1071 over exactly these 36 bytes, no pseudo-header for
 * either family, computed after the HMAC is in place (§1.4).
 */
import {
  ByteReader,
  ByteWriter,
  checksumIsValid,
  DecodeError,
  internetChecksum,
} from "../bytes/mod.ts";

export const CARP_HEADER_LENGTH = 36;
export const CARP_VERSION = 2;
export const CARP_ADVERTISEMENT = 1;
export const CARP_AUTHLEN = 7;
export const CARP_DFLTTL = 255;
export const CARP_PROTOCOL = 112;
export const CARP_HMAC_LENGTH = 20;
/** IPv4 TOS of 5.4/OpenBSD/ucarp advertisements (IPTOS_LOWDELAY); FreeBSD 11+ uses 0xe0. */
export const CARP_TOS = 0x10;
/** Multicast groups (224.0.0.18, ff02::12) and their Ethernet destinations. */
export const CARP_GROUP_V4: Uint8Array = Uint8Array.of(224, 0, 0, 18);
export const CARP_GROUP_V6: Uint8Array = Uint8Array.of(0xff, 0x02, ...new Array(13).fill(0), 0x12);
export const CARP_GROUP_MAC_V4: Uint8Array = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0x12);
export const CARP_GROUP_MAC_V6: Uint8Array = Uint8Array.of(0x33, 0x33, 0x00, 0x00, 0x00, 0x12);

export const OFFSET_VERSION_TYPE = 0;
export const OFFSET_VHID = 1;
export const OFFSET_ADVSKEW = 2;
export const OFFSET_AUTHLEN = 3;
export const OFFSET_DEMOTE = 4;
export const OFFSET_ADVBASE = 5;
export const OFFSET_CHECKSUM = 6;
export const OFFSET_COUNTER = 8;
export const OFFSET_HMAC = 16;

export interface CarpHeader {
  readonly version: number;
  readonly type: number;
  readonly vhid: number;
  readonly advskew: number;
  readonly authlen: number;
  /** pad1 in FreeBSD and ucarp (sent 0, ignored); later OpenBSD's demote count. */
  readonly demote: number;
  readonly advbase: number;
  readonly checksum: number;
  readonly counter: bigint;
  readonly hmac: Uint8Array;
}

/** What an encoder needs; version/type/authlen default to the only values in use. */
export interface CarpHeaderInit {
  readonly vhid: number;
  readonly advskew: number;
  readonly advbase: number;
  readonly counter: bigint;
  readonly hmac: Uint8Array;
  readonly demote?: number;
  readonly version?: number;
  readonly type?: number;
  readonly authlen?: number;
}

/** Writes the 36 bytes with a correct checksum and returns the buffer written to. */
export function encodeCarpHeader(
  header: CarpHeaderInit,
  out: Uint8Array = new Uint8Array(CARP_HEADER_LENGTH),
  offset = 0,
): Uint8Array {
  if (header.hmac.length !== CARP_HMAC_LENGTH) {
    throw new RangeError(`CARP HMAC must be ${CARP_HMAC_LENGTH} bytes, got ${header.hmac.length}`);
  }
  const w = new ByteWriter(out, offset);
  w.u8(((header.version ?? CARP_VERSION) << 4) | ((header.type ?? CARP_ADVERTISEMENT) & 0x0f));
  w.u8(header.vhid).u8(header.advskew).u8(header.authlen ?? CARP_AUTHLEN);
  w.u8(header.demote ?? 0).u8(header.advbase).u16(0);
  w.u64(header.counter).put(header.hmac);
  const region = out.subarray(offset, offset + CARP_HEADER_LENGTH);
  new DataView(out.buffer, out.byteOffset).setUint16(
    offset + OFFSET_CHECKSUM,
    internetChecksum(region),
  );
  return out;
}

/** Reads the fields without judging them; callers validate in their own order. */
export function readCarpHeader(bytes: Uint8Array): CarpHeader {
  checkCarpLength(bytes);
  const r = new ByteReader(bytes, "badlen");
  const versionType = r.u8();
  return {
    version: versionType >> 4,
    type: versionType & 0x0f,
    vhid: r.u8(),
    advskew: r.u8(),
    authlen: r.u8(),
    demote: r.u8(),
    advbase: r.u8(),
    checksum: r.u16(),
    counter: r.u64(),
    hmac: r.take(CARP_HMAC_LENGTH).slice(),
  };
}

/** Kernel rule: at least 36 bytes; anything after them is ignored. */
export function checkCarpLength(bytes: Uint8Array): void {
  if (bytes.length < CARP_HEADER_LENGTH) {
    throw new DecodeError(
      "badlen",
      `CARP header needs ${CARP_HEADER_LENGTH} bytes, got ${bytes.length}`,
      bytes.length,
    );
  }
}

export function checkCarpChecksum(bytes: Uint8Array): void {
  if (!checksumIsValid(bytes.subarray(0, CARP_HEADER_LENGTH))) {
    const stored = (bytes[OFFSET_CHECKSUM] << 8) | bytes[OFFSET_CHECKSUM + 1];
    const copy = bytes.slice(0, CARP_HEADER_LENGTH);
    copy[OFFSET_CHECKSUM] = copy[OFFSET_CHECKSUM + 1] = 0;
    const want = internetChecksum(copy);
    throw new DecodeError(
      "badsum",
      `CARP checksum 0x${hex16(stored)} should be 0x${hex16(want)}`,
      OFFSET_CHECKSUM,
    );
  }
}

export function checkCarpVersion(bytes: Uint8Array): void {
  const version = bytes[OFFSET_VERSION_TYPE] >> 4;
  if (version !== CARP_VERSION) {
    throw new DecodeError("badver", `CARP version ${version}, expected ${CARP_VERSION}`, 0);
  }
}

/**
 * Standalone decode (for `pfsyncd decode` and tests): length, checksum, then
 * version, the order of spec §1.5 minus the vhid lookup that needs config.
 * Type, authlen and the demote byte are not checked, as no kernel checks them.
 */
export function decodeCarpHeader(bytes: Uint8Array): CarpHeader {
  checkCarpLength(bytes);
  checkCarpChecksum(bytes);
  checkCarpVersion(bytes);
  return readCarpHeader(bytes);
}

function hex16(value: number): string {
  return value.toString(16).padStart(4, "0");
}
