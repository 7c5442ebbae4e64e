/**
 * The link layers a Linux capture carries, down to the network-layer payload.
 *
 * LINKTYPE_ETHERNET (1): Ethernet II, 14 bytes; 802.1Q/802.1ad tags (4 bytes
 * each) are stepped over.
 *
 *    0            6            12     14
 *    | dst MAC    | src MAC    | type | payload
 *
 * LINKTYPE_LINUX_SLL (113), `tcpdump -i any` before libpcap 1.10, 16 bytes:
 *
 *    0        2        4        6                  14       16
 *    | pkttype | ARPHRD | addrlen | address (8 bytes) | proto | payload
 *
 * LINKTYPE_LINUX_SLL2 (276), `tcpdump -i any` since libpcap 1.10, 20 bytes:
 *
 *    0       2          4         8        10        11        12                 20
 *    | proto | reserved | ifindex | ARPHRD | pkttype | addrlen | address (8 bytes) | payload
 *
 * LINKTYPE_RAW (101), LINKTYPE_IPV4 (228), LINKTYPE_IPV6 (229): the IP packet
 * itself; the family comes from the version nibble.
 *
 * All multi-byte fields are big-endian, whatever the file's byte order.
 */
import { ByteReader } from "../bytes/reader.ts";
import { DecodeError } from "../bytes/errors.ts";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from "../net/ethernet.ts";

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const SLL_HEADER_LENGTH = 16;
export const SLL2_HEADER_LENGTH = 20;
export const SLL_OFFSET = { packetType: 0, arphrd: 2, addressLength: 4, address: 6, protocol: 14 };
export const SLL2_OFFSET = {
  protocol: 0,
  reserved: 2,
  ifindex: 4,
  arphrd: 8,
  packetType: 10,
  addressLength: 11,
  address: 12,
} as const;

const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;

/** Linux PACKET_* packet types (the direction a cooked capture saw the frame go). */
export const PACKET_TYPE_NAMES: readonly string[] = [
  "In", // PACKET_HOST
  "B", // PACKET_BROADCAST
  "M", // PACKET_MULTICAST
  "P", // PACKET_OTHERHOST
  "Out", // PACKET_OUTGOING
];

export const LINKTYPE_NAMES: Readonly<Record<number, string>> = {
  [LINKTYPE_ETHERNET]: "EN10MB",
  [LINKTYPE_RAW]: "RAW",
  [LINKTYPE_LINUX_SLL]: "LINUX_SLL",
  [LINKTYPE_IPV4]: "IPV4",
  [LINKTYPE_IPV6]: "IPV6",
  [LINKTYPE_LINUX_SLL2]: "LINUX_SLL2",
};

export interface LinkFrame {
  /** EtherType of the payload (0x0800 IPv4, 0x86dd IPv6, …). */
  readonly etherType: number;
  /** The link-layer source address (MAC), when the link layer has one. */
  readonly source?: Uint8Array;
  /** Ethernet only. */
  readonly destination?: Uint8Array;
  /** Cooked captures: PACKET_* type (0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing). */
  readonly packetType?: number;
  /** SLL2: the capturing interface's index. */
  readonly ifindex?: number;
  /** Offset of the payload in the frame. */
  readonly offset: number;
  readonly payload: Uint8Array;
}

type LinkDecoder = (frame: Uint8Array) => LinkFrame;

function ethernet(frame: Uint8Array): LinkFrame {
  const r = new ByteReader(frame, "badlen");
  const destination = r.take(6).slice();
  const source = r.take(6).slice();
  let etherType = r.u16();
  while (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ) {
    r.skip(2);
    etherType = r.u16();
  }
  return { etherType, source, destination, offset: r.offset, payload: frame.subarray(r.offset) };
}

function cookedAddress(r: ByteReader, length: number): Uint8Array | undefined {
  const slot = r.take(8);
  return length > 0 ? slot.slice(0, Math.min(length, 8)) : undefined;
}

function sll(frame: Uint8Array): LinkFrame {
  const r = new ByteReader(frame, "badlen");
  r.need(SLL_HEADER_LENGTH);
  const packetType = r.u16();
  r.skip(2); // ARPHRD type
  const addressLength = r.u16();
  const source = cookedAddress(r, addressLength);
  const etherType = r.u16();
  return {
    etherType,
    ...(source ? { source } : {}),
    packetType,
    offset: SLL_HEADER_LENGTH,
    payload: frame.subarray(SLL_HEADER_LENGTH),
  };
}

function sll2(frame: Uint8Array): LinkFrame {
  const r = new ByteReader(frame, "badlen");
  r.need(SLL2_HEADER_LENGTH);
  const etherType = r.u16();
  r.skip(2); // reserved
  const ifindex = r.u32();
  r.skip(2); // ARPHRD type
  const packetType = r.u8();
  const addressLength = r.u8();
  const source = cookedAddress(r, addressLength);
  return {
    etherType,
    ...(source ? { source } : {}),
    packetType,
    ifindex,
    offset: SLL2_HEADER_LENGTH,
    payload: frame.subarray(SLL2_HEADER_LENGTH),
  };
}

function raw(frame: Uint8Array): LinkFrame {
  if (frame.length < 1) throw new DecodeError("badlen", "empty raw IP frame", 0);
  const version = frame[0] >> 4;
  const etherType = version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : 0;
  return { etherType, offset: 0, payload: frame };
}

/** Decoders by LINKTYPE_* value. */
export const LINK_DECODERS: Readonly<Record<number, LinkDecoder>> = {
  [LINKTYPE_ETHERNET]: ethernet,
  [LINKTYPE_RAW]: raw,
  [LINKTYPE_IPV4]: raw,
  [LINKTYPE_IPV6]: raw,
  [LINKTYPE_LINUX_SLL]: sll,
  [LINKTYPE_LINUX_SLL2]: sll2,
};

export function linkTypeSupported(linktype: number): boolean {
  return LINK_DECODERS[linktype] !== undefined;
}

/** Strips the link layer. Errors: "badlen" (frame too short), "badlink" (unknown link type). */
export function decodeLinkFrame(linktype: number, frame: Uint8Array): LinkFrame {
  const decoder = LINK_DECODERS[linktype];
  if (!decoder) {
    throw new DecodeError("badlink", `link type ${linktype} is not supported`, 0);
  }
  return decoder(frame);
}
