/**
 * Ethernet II header codec (IEEE 802.3 / DIX, C `struct ether_header`).
 *
 *    0                   6                   12      14
 *    +-------------------+-------------------+-------+----------
 *    | destination MAC   | source MAC        | type  | payload
 *    +-------------------+-------------------+-------+----------
 *
 * No FCS: the NIC adds it and AF_PACKET never shows it.
 */
import { ByteReader } from "../bytes/reader.ts";
import { ByteWriter } from "../bytes/writer.ts";

export const ETHERNET_HEADER_LENGTH = 14;
export const ETHERNET_OFFSET = { destination: 0, source: 6, etherType: 12 } as const;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export interface EthernetHeader {
  readonly destination: Uint8Array;
  readonly source: Uint8Array;
  readonly etherType: number;
}

/** Errors: DecodeError "badlen" when fewer than 14 bytes remain. */
export function decodeEthernetHeader(bytes: Uint8Array, offset = 0): EthernetHeader {
  const r = new ByteReader(bytes, "badlen", offset);
  const destination = r.take(6).slice();
  const source = r.take(6).slice();
  return { destination, source, etherType: r.u16() };
}

export function encodeEthernetHeader(
  header: EthernetHeader,
  out: Uint8Array = new Uint8Array(ETHERNET_HEADER_LENGTH),
  offset = 0,
): Uint8Array {
  if (header.destination.length !== 6 || header.source.length !== 6) {
    throw new RangeError("encodeEthernetHeader: MAC addresses are 6 bytes");
  }
  new ByteWriter(out, offset).put(header.destination).put(header.source).u16(header.etherType);
  return out.subarray(offset, offset + ETHERNET_HEADER_LENGTH);
}

/** RFC 1112: 01:00:5e followed by the low 23 bits of the IPv4 group (224.0.0.18 → …:00:12). */
export function ipv4MulticastMac(group: Uint8Array): Uint8Array {
  return new Uint8Array([0x01, 0x00, 0x5e, group[1] & 0x7f, group[2], group[3]]);
}

/** RFC 2464: 33:33 followed by the low 32 bits of the IPv6 group (ff02::12 → 33:33:00:00:00:12). */
export function ipv6MulticastMac(group: Uint8Array): Uint8Array {
  return new Uint8Array([0x33, 0x33, group[12], group[13], group[14], group[15]]);
}

/** 00:00:5e:00:01:VHID, the virtual MAC kernel CARP uses for a vhid (same block as VRRP). */
export function carpVirtualMac(vhid: number): Uint8Array {
  return new Uint8Array([0x00, 0x00, 0x5e, 0x00, 0x01, vhid & 0xff]);
}
