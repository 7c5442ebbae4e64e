/**
 * IPv4 header codec (RFC 791, C `struct ip` in netinet/ip.h).
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-------+-------+---------------+-------------------------------+
 *  0 |Version|  IHL  |      TOS      |         Total Length          |
 *    +-------+-------+---------------+-----+-------------------------+
 *  4 |        Identification         |Flags|     Fragment Offset     |
 *    +---------------+---------------+-----+-------------------------+
 *  8 |      TTL      |   Protocol    |        Header Checksum        |
 *    +---------------+---------------+-------------------------------+
 * 12 |                        Source Address                         |
 *    +---------------------------------------------------------------+
 * 16 |                     Destination Address                       |
 *    +---------------------------------------------------------------+
 * 20 |                  Options (IHL > 5) ...                        |
 */
import { ByteWriter } from "../bytes/writer.ts";
import { DecodeError } from "../bytes/errors.ts";
import { internetChecksum, onesComplementSum } from "../bytes/checksum.ts";

export const IPV4_HEADER_LENGTH = 20;
export const IPV4_OFFSET = {
  versionIhl: 0,
  tos: 1,
  totalLength: 2,
  id: 4,
  flagsFragment: 6,
  ttl: 8,
  protocol: 9,
  checksum: 10,
  source: 12,
  destination: 16,
} as const;

export const IP_FLAG_DF = 0x4000;
export const IP_FLAG_MF = 0x2000;
export const IPTOS_LOWDELAY = 0x10;

export interface IPv4Header {
  /** Header length in bytes (IHL × 4). */
  readonly headerLength: number;
  readonly tos: number;
  readonly totalLength: number;
  readonly id: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** In bytes (the wire field × 8). */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
  readonly options: Uint8Array;
}

export interface DecodeIPv4Options {
  /** Verify the header checksum (default true); a mismatch is DecodeError "badsum". */
  verifyChecksum?: boolean;
  /**
   * Return source, destination and options as views into `bytes` instead of
   * copies (default false). For callers that own `bytes` already: an
   * ArrayBuffer allocation costs more than decoding the whole header.
   */
  share?: boolean;
}

/**
 * Decodes the header at `offset`. Errors: "badlen" for a buffer shorter than
 * the header or than total length, "badver" for a version other than 4,
 * "badsum" for a wrong header checksum.
 */
export function decodeIPv4Header(
  bytes: Uint8Array,
  offset = 0,
  decodeOptions: DecodeIPv4Options = {},
): IPv4Header {
  // Plain indexing rather than a ByteReader: this runs for every received
  // packet, so it allocates nothing beyond the result (and with `share`, no
  // ArrayBuffers at all).
  if (offset < 0 || offset + IPV4_HEADER_LENGTH > bytes.length) {
    throw new DecodeError(
      "badlen",
      `need ${IPV4_HEADER_LENGTH} bytes, ${Math.max(0, bytes.length - offset)} left`,
      offset,
    );
  }
  const versionIhl = bytes[offset];
  if (versionIhl >> 4 !== 4) {
    throw new DecodeError("badver", `IP version ${versionIhl >> 4}, expected 4`, offset);
  }
  const headerLength = (versionIhl & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LENGTH) {
    throw new DecodeError("badlen", `IHL ${headerLength / 4} below 5`, offset);
  }
  const tos = bytes[offset + 1];
  const totalLength = u16(bytes, offset + 2);
  if (totalLength < headerLength) {
    throw new DecodeError(
      "badlen",
      `total length ${totalLength} < header ${headerLength}`,
      offset + 2,
    );
  }
  if (offset + totalLength > bytes.length) {
    throw new DecodeError(
      "badlen",
      `total length ${totalLength} exceeds the ${bytes.length - offset} bytes received`,
      offset + 2,
    );
  }
  const flagsFragment = u16(bytes, offset + 6);
  const checksum = u16(bytes, offset + 10);
  if (decodeOptions.verifyChecksum !== false) {
    let sum = 0;
    for (let at = offset; at < offset + headerLength; at += 2) sum += u16(bytes, at);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    if (sum !== 0xffff) {
      throw new DecodeError(
        "badsum",
        `IPv4 header checksum 0x${hex16(checksum)} is wrong`,
        offset + 10,
      );
    }
  }
  const id = u16(bytes, offset + 4);
  const ttl = bytes[offset + 8];
  const protocol = bytes[offset + 9];
  const cut = decodeOptions.share
    ? (from: number, to: number) => bytes.subarray(from, to)
    : (from: number, to: number) => bytes.slice(from, to);
  const source = cut(offset + 12, offset + 16);
  const destination = cut(offset + 16, offset + 20);
  const options = headerLength === IPV4_HEADER_LENGTH
    ? NO_OPTIONS
    : cut(offset + IPV4_HEADER_LENGTH, offset + headerLength);
  return {
    headerLength,
    tos,
    totalLength,
    id,
    dontFragment: (flagsFragment & IP_FLAG_DF) !== 0,
    moreFragments: (flagsFragment & IP_FLAG_MF) !== 0,
    fragmentOffset: (flagsFragment & 0x1fff) * 8,
    ttl,
    protocol,
    checksum,
    source,
    destination,
    options,
  };
}

export interface IPv4HeaderInit {
  readonly tos?: number;
  /** Bytes after the header; total length = header + payloadLength. */
  readonly payloadLength: number;
  readonly id?: number;
  readonly dontFragment?: boolean;
  readonly ttl?: number;
  readonly protocol: number;
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
}

/** Writes a 20-byte header (no options) with its checksum; returns the header bytes. */
export function encodeIPv4Header(
  init: IPv4HeaderInit,
  out: Uint8Array = new Uint8Array(IPV4_HEADER_LENGTH),
  offset = 0,
): Uint8Array {
  const w = new ByteWriter(out, offset);
  w.u8(0x45)
    .u8(init.tos ?? 0)
    .u16(IPV4_HEADER_LENGTH + init.payloadLength)
    .u16(init.id ?? 0)
    .u16(init.dontFragment === false ? 0 : IP_FLAG_DF)
    .u8(init.ttl ?? 64)
    .u8(init.protocol)
    .u16(0)
    .put(init.source)
    .put(init.destination);
  const header = out.subarray(offset, offset + IPV4_HEADER_LENGTH);
  const sum = internetChecksum(header);
  header[IPV4_OFFSET.checksum] = sum >> 8;
  header[IPV4_OFFSET.checksum + 1] = sum & 0xff;
  return header;
}

/** The payload the header announces: bytes from IHL×4 to total length. */
export function ipv4Payload(bytes: Uint8Array, header: IPv4Header, offset = 0): Uint8Array {
  return bytes.subarray(offset + header.headerLength, offset + header.totalLength);
}

/**
 * One's-complement sum of the IPv4 pseudo-header (source, destination, zero,
 * protocol, upper-layer length), to pass as `initial` to the checksum helpers.
 */
export function ipv4PseudoHeaderSum(
  source: Uint8Array,
  destination: Uint8Array,
  protocol: number,
  length: number,
): number {
  const pseudo = new Uint8Array(12);
  pseudo.set(source, 0);
  pseudo.set(destination, 4);
  pseudo[9] = protocol;
  pseudo[10] = length >> 8;
  pseudo[11] = length & 0xff;
  return onesComplementSum(pseudo);
}

/** Shared by every option-less header; it has no bytes to change. */
const NO_OPTIONS = new Uint8Array(0);

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function hex16(value: number): string {
  return value.toString(16).padStart(4, "0");
}
