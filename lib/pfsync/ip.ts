/**
 * The IPv4 envelope pfsync travels in (spec pfsync.md §1.3): IHL 5, TOS 0x10,
 * DF, TTL 255, protocol 240. Raw IPv4 sockets hand the receiver the whole
 * datagram, so `unwrapIPv4` returns the meta the admission checks need.
 *
 *  0    1    2       4        6        8    9    10       12      16     20
 *  |VIHL|TOS |totlen |  id    |flg/off |TTL |prot| cksum  | src   | dst  |
 */
import { DecodeError } from "../bytes/errors.ts";
import { internetChecksum } from "../bytes/checksum.ts";
import { formatIPv4, parseIPv4 } from "../net/address.ts";
import { IPPROTO_PFSYNC, PFSYNC_DFLTTL } from "./header.ts";

export interface IPv4Envelope {
  readonly source: string;
  readonly destination: string;
  readonly ttl: number;
  readonly protocol: number;
  /** The pfsync payload (shares memory with the datagram). */
  readonly payload: Uint8Array;
}

export function wrapIPv4(
  payload: Uint8Array,
  source: string,
  destination: string,
  identification: number,
): Uint8Array {
  const src = parseIPv4(source);
  const dst = parseIPv4(destination);
  if (!src || !dst) throw new RangeError(`pfsync needs IPv4 addresses: ${source} → ${destination}`);
  const out = new Uint8Array(20 + payload.length);
  const view = new DataView(out.buffer);
  out[0] = 0x45;
  out[1] = 0x10;
  view.setUint16(2, out.length);
  view.setUint16(4, identification & 0xffff);
  view.setUint16(6, 0x4000);
  out[8] = PFSYNC_DFLTTL;
  out[9] = IPPROTO_PFSYNC;
  out.set(src, 12);
  out.set(dst, 16);
  view.setUint16(10, internetChecksum(out.subarray(0, 20)));
  out.set(payload, 20);
  return out;
}

/**
 * Splits a datagram. Only a datagram too short for its own IP header throws
 * (`hdrops`); a payload shorter than the pfsync header is returned as is so
 * the receiver counts it in kernel order (after the interface and TTL checks).
 * The IP checksum was already verified by the stack and is not re-checked.
 */
export function unwrapIPv4(datagram: Uint8Array): IPv4Envelope {
  const ihl = datagram.length > 0 ? (datagram[0] & 0x0f) * 4 : 0;
  if (datagram.length < 20 || ihl < 20 || datagram.length < ihl) {
    throw new DecodeError("hdrops", `${datagram.length} bytes do not hold an IPv4 header`, 0);
  }
  const total = (datagram[2] << 8) | datagram[3];
  const end = total >= ihl && total <= datagram.length ? total : datagram.length;
  return {
    source: formatIPv4(datagram, 12),
    destination: formatIPv4(datagram, 16),
    ttl: datagram[8],
    protocol: datagram[9],
    payload: datagram.subarray(ihl, end),
  };
}
