/**
 * ICMPv6 Neighbor Advertisement codec (RFC 4861 §4.4, C `struct nd_neighbor_advert`
 * + `struct nd_opt_hdr`), used for the unsolicited NA a new CARP master sends
 * for each IPv6 address (spec/carp.md §7.8).
 *
 *    0       1       2               4
 *    +-------+-------+---------------+
 *  0 | type  | code  |   checksum    |     type 136, code 0
 *    +-+-+-+-+-------+---------------+
 *  4 |R|S|O|        reserved         |
 *    +-+-+-+-------------------------+
 *  8 |        target address (16)    |
 *    +-------+-------+---------------+
 * 24 | opt 2 | len 1 | link-layer address (6) |   Target Link-Layer Address option
 *    +-------+-------+------------------------+
 *
 * The checksum covers the IPv6 pseudo-header (source, destination, length,
 * next header 58). A raw ICMPv6 socket on Linux or FreeBSD fills it in, so
 * the sender may leave it zero; the pure encoder computes it when given the
 * addresses, which the tests use for byte-exact vectors.
 */
import { ByteReader } from "../bytes/reader.ts";
import { ByteWriter } from "../bytes/writer.ts";
import { DecodeError } from "../bytes/errors.ts";
import { checksumIsValid, internetChecksum, onesComplementSum } from "../bytes/checksum.ts";

export const ICMPV6_NEXT_HEADER = 58;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_OPT_TARGET_LINKADDR = 2;
export const NA_FLAG_ROUTER = 0x80000000;
export const NA_FLAG_SOLICITED = 0x40000000;
export const NA_FLAG_OVERRIDE = 0x20000000;
export const NA_LENGTH = 24;
export const NA_WITH_TLLA_LENGTH = 32;
export const NA_OFFSET = {
  type: 0,
  code: 1,
  checksum: 2,
  flags: 4,
  target: 8,
  options: 24,
} as const;

/** ff02::1, where unsolicited advertisements go. */
export const ALL_NODES_MULTICAST: Uint8Array = new Uint8Array([
  0xff,
  0x02,
  ...new Array(13).fill(0),
  0x01,
]);

export interface NeighborAdvertisement {
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly target: Uint8Array;
  /** Target Link-Layer Address option; omitted from the packet when undefined. */
  readonly targetMac?: Uint8Array;
}

export interface IPv6Addresses {
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
}

/** One's-complement sum of the RFC 8200 §8.1 pseudo-header. */
export function ipv6PseudoHeaderSum(
  source: Uint8Array,
  destination: Uint8Array,
  length: number,
  nextHeader: number,
): number {
  const pseudo = new Uint8Array(40);
  pseudo.set(source, 0);
  pseudo.set(destination, 16);
  new DataView(pseudo.buffer).setUint32(32, length);
  pseudo[39] = nextHeader;
  return onesComplementSum(pseudo);
}

/** Unsolicited form: Override set, Solicited clear, Router when forwarding. */
export function unsolicitedNeighborAdvertisement(
  target: Uint8Array,
  mac: Uint8Array,
  router = false,
): NeighborAdvertisement {
  return { router, solicited: false, override: true, target, targetMac: mac };
}

export function encodeNeighborAdvertisement(
  na: NeighborAdvertisement,
  addresses?: IPv6Addresses,
): Uint8Array {
  if (na.target.length !== 16) throw new RangeError("NA target must be 16 bytes");
  const out = new Uint8Array(na.targetMac ? NA_WITH_TLLA_LENGTH : NA_LENGTH);
  const flags = (na.router ? NA_FLAG_ROUTER : 0) | (na.solicited ? NA_FLAG_SOLICITED : 0) |
    (na.override ? NA_FLAG_OVERRIDE : 0);
  const w = new ByteWriter(out).u8(ND_NEIGHBOR_ADVERT).u8(0).u16(0).u32(flags).put(na.target);
  if (na.targetMac) {
    if (na.targetMac.length !== 6) throw new RangeError("NA target MAC must be 6 bytes");
    w.u8(ND_OPT_TARGET_LINKADDR).u8(1).put(na.targetMac);
  }
  if (addresses) {
    const initial = ipv6PseudoHeaderSum(
      addresses.source,
      addresses.destination,
      out.length,
      ICMPV6_NEXT_HEADER,
    );
    new DataView(out.buffer).setUint16(NA_OFFSET.checksum, internetChecksum(out, initial));
  }
  return out;
}

/**
 * Errors: "badlen" (short, or an option with length 0 or past the end),
 * "badval" (not type 136 code 0), "badsum" (checksum wrong, only checked
 * when the addresses are given).
 */
export function decodeNeighborAdvertisement(
  bytes: Uint8Array,
  addresses?: IPv6Addresses,
): NeighborAdvertisement {
  const r = new ByteReader(bytes, "badlen");
  r.need(NA_LENGTH);
  const type = r.u8();
  const code = r.u8();
  if (type !== ND_NEIGHBOR_ADVERT || code !== 0) {
    throw new DecodeError("badval", `ICMPv6 type ${type} code ${code}, expected 136/0`, 0);
  }
  r.skip(2);
  const flags = r.u32();
  const target = r.take(16).slice();
  if (addresses) {
    const initial = ipv6PseudoHeaderSum(
      addresses.source,
      addresses.destination,
      bytes.length,
      ICMPV6_NEXT_HEADER,
    );
    if (!checksumIsValid(bytes, initial)) {
      throw new DecodeError("badsum", "ICMPv6 checksum is wrong", NA_OFFSET.checksum);
    }
  }
  let targetMac: Uint8Array | undefined;
  while (r.remaining > 0) {
    const start = r.offset;
    const optionType = r.u8();
    const units = r.u8();
    if (units === 0) throw new DecodeError("badlen", "ND option with length 0", start);
    const body = r.take(units * 8 - 2);
    if (optionType === ND_OPT_TARGET_LINKADDR && body.length >= 6) targetMac = body.slice(0, 6);
  }
  return {
    router: (flags & NA_FLAG_ROUTER) !== 0,
    solicited: (flags & NA_FLAG_SOLICITED) !== 0,
    override: (flags & NA_FLAG_OVERRIDE) !== 0,
    target,
    ...(targetMac ? { targetMac } : {}),
  };
}
