/**
 * ARP packet codec for Ethernet/IPv4 (RFC 826, C `struct ether_arp`), and the
 * gratuitous ARP a new CARP master sends (spec/carp.md §7.7).
 *
 *    0        2        4    5    6        8
 *    +--------+--------+----+----+--------+
 *    | htype  | ptype  |hlen|plen|  op    |       htype 1, ptype 0x0800, 6, 4
 *    +--------+--------+----+----+--------+--------+--------+
 *  8 | sender hardware address (6)       | sender IP (4)   |
 *    +-----------------------------------+-----------------+
 * 18 | target hardware address (6)       | target IP (4)   |   28 bytes
 *    +-----------------------------------+-----------------+
 */
import { ByteReader } from "../bytes/reader.ts";
import { ByteWriter } from "../bytes/writer.ts";
import { DecodeError } from "../bytes/errors.ts";
import {
  BROADCAST_MAC,
  encodeEthernetHeader,
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
} from "./ethernet.ts";

export const ARP_LENGTH = 28;
export const ARP_OFFSET = {
  htype: 0,
  ptype: 2,
  hlen: 4,
  plen: 5,
  op: 6,
  senderMac: 8,
  senderIp: 14,
  targetMac: 18,
  targetIp: 24,
} as const;

export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;

export interface ArpPacket {
  readonly op: number;
  readonly senderMac: Uint8Array;
  readonly senderIp: Uint8Array;
  readonly targetMac: Uint8Array;
  readonly targetIp: Uint8Array;
}

/**
 * Errors: "badlen" if short; "badval" for any hardware/protocol other than
 * Ethernet/IPv4 (the only pair pfsyncd speaks).
 */
export function decodeArp(bytes: Uint8Array, offset = 0): ArpPacket {
  const r = new ByteReader(bytes, "badlen", offset);
  r.need(ARP_LENGTH);
  const htype = r.u16();
  const ptype = r.u16();
  const hlen = r.u8();
  const plen = r.u8();
  if (htype !== ARPHRD_ETHER || ptype !== ETHERTYPE_IPV4 || hlen !== 6 || plen !== 4) {
    throw new DecodeError(
      "badval",
      `ARP for htype ${htype} ptype 0x${ptype.toString(16)} hlen ${hlen} plen ${plen}`,
      offset,
    );
  }
  return {
    op: r.u16(),
    senderMac: r.take(6).slice(),
    senderIp: r.take(4).slice(),
    targetMac: r.take(6).slice(),
    targetIp: r.take(4).slice(),
  };
}

export function encodeArp(
  packet: ArpPacket,
  out: Uint8Array = new Uint8Array(ARP_LENGTH),
  offset = 0,
): Uint8Array {
  new ByteWriter(out, offset)
    .u16(ARPHRD_ETHER)
    .u16(ETHERTYPE_IPV4)
    .u8(6)
    .u8(4)
    .u16(packet.op)
    .put(packet.senderMac)
    .put(packet.senderIp)
    .put(packet.targetMac)
    .put(packet.targetIp);
  return out.subarray(offset, offset + ARP_LENGTH);
}

export interface GratuitousArpOptions {
  /**
   * Target hardware address: "zero" (00:00:00:00:00:00, kernel style,
   * default) or "sender" (the sender's MAC, ucarp style).
   */
  readonly targetMac?: "zero" | "sender";
}

/** Request form: sender IP = target IP = the address, sender MAC = the MAC in use. */
export function gratuitousArp(
  address: Uint8Array,
  mac: Uint8Array,
  options: GratuitousArpOptions = {},
): ArpPacket {
  return {
    op: ARPOP_REQUEST,
    senderMac: mac,
    senderIp: address,
    targetMac: options.targetMac === "sender" ? mac : new Uint8Array(6),
    targetIp: address,
  };
}

/** The complete 42-byte frame: broadcast Ethernet header + gratuitous ARP. */
export function encodeGratuitousArpFrame(
  address: Uint8Array,
  mac: Uint8Array,
  options: GratuitousArpOptions = {},
): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + ARP_LENGTH);
  encodeEthernetHeader(
    { destination: BROADCAST_MAC, source: mac, etherType: ETHERTYPE_ARP },
    frame,
  );
  encodeArp(gratuitousArp(address, mac, options), frame, ETHERNET_HEADER_LENGTH);
  return frame;
}
