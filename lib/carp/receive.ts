/**
 * Validation of a received CARP packet in the 5.4 kernel's order (spec §1.5),
 * pure: the caller passes what the socket layer learned (TTL or hop limit,
 * interface, source) plus the CARP bytes, and gets back the vhost and header,
 * or the name of the counter to increment. Nothing here throws on bad input.
 */
import { DecodeError } from "../bytes/mod.ts";
import { addressesEqual, type Family, formatAddress } from "../net/address.ts";
import {
  CARP_DFLTTL,
  type CarpHeader,
  checkCarpChecksum,
  checkCarpLength,
  checkCarpVersion,
  OFFSET_VHID,
  readCarpHeader,
} from "./header.ts";
import type { CarpCounter, CarpStats } from "./stats.ts";

export interface ReceivedPacket {
  readonly family: Family;
  /** IPv4 TTL or IPv6 hop limit. */
  readonly ttl: number;
  /** The interface the packet arrived on. */
  readonly iface: string;
  readonly source: Uint8Array;
  /** The CARP bytes: after the IP header for IPv4, the whole payload for IPv6. */
  readonly payload: Uint8Array;
}

/** What validation needs to know about one configured vhid. */
export interface ReceiverVhost {
  readonly vhid: number;
  readonly parent: string;
  /** UP and RUNNING in kernel terms: started and its parent link up. */
  readonly running: boolean;
  verify(counter: bigint, hmac: Uint8Array): boolean;
}

export interface ReceiveContext<V extends ReceiverVhost> {
  /** `net.inet.carp.allow`. */
  readonly allow: boolean;
  readonly vhosts: readonly V[];
  /** Our own addresses: advertisements from them are echoes of ours. */
  readonly ownAddresses: readonly Uint8Array[];
}

export type ReceiveOutcome<V> =
  | { readonly kind: "accepted"; readonly vhost: V; readonly header: CarpHeader }
  | { readonly kind: "dropped"; readonly counter: CarpCounter; readonly detail: string }
  | { readonly kind: "ignored"; readonly why: "disabled" | "own" };

function drop(counter: CarpCounter, detail: string) {
  return { kind: "dropped", counter, detail } as const;
}

export function validateCarpPacket<V extends ReceiverVhost>(
  packet: ReceivedPacket,
  context: ReceiveContext<V>,
): ReceiveOutcome<V> {
  if (!context.allow) return { kind: "ignored", why: "disabled" };
  if (context.ownAddresses.some((a) => addressesEqual(a, packet.source))) {
    return { kind: "ignored", why: "own" };
  }
  const onIface = context.vhosts.filter((v) => v.parent === packet.iface);
  if (onIface.length === 0) return drop("badif", `no CARP vhid on ${packet.iface}`);
  if (packet.ttl !== CARP_DFLTTL) {
    return drop("badttl", `TTL ${packet.ttl} from ${formatAddress(packet.source)}, want 255`);
  }
  try {
    checkCarpLength(packet.payload);
    checkCarpChecksum(packet.payload);
    const vhid = packet.payload[OFFSET_VHID];
    const vhost = onIface.find((v) => v.vhid === vhid && v.running);
    if (!vhost) return drop("badvhid", `vhid ${vhid} not running on ${packet.iface}`);
    checkCarpVersion(packet.payload);
    const header = readCarpHeader(packet.payload);
    if (!vhost.verify(header.counter, header.hmac)) {
      return drop("badauth", `HMAC mismatch for vhid ${vhid} from ${formatAddress(packet.source)}`);
    }
    return { kind: "accepted", vhost, header };
  } catch (error) {
    if (error instanceof DecodeError) return drop(error.reason as CarpCounter, error.message);
    throw error;
  }
}

const IPV4_MIN_HEADER = 20;

/**
 * What a raw IPv4 socket hands us is the whole datagram: take the TTL (offset
 * 8) and source (12–15) and skip IHL·4 bytes to the CARP header (spec §7.1).
 * A datagram too short for its own IP header is `hdrops`.
 */
export function fromIPv4Datagram(datagram: Uint8Array, iface: string): ReceivedPacket {
  if (datagram.length < IPV4_MIN_HEADER || datagram[0] >> 4 !== 4) {
    throw new DecodeError("hdrops", `not an IPv4 header (${datagram.length} bytes)`, 0);
  }
  const headerLength = (datagram[0] & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER || headerLength > datagram.length) {
    throw new DecodeError("hdrops", `IPv4 header length ${headerLength} of ${datagram.length}`, 0);
  }
  return {
    family: 4,
    ttl: datagram[8],
    iface,
    source: datagram.slice(12, 16),
    payload: datagram.subarray(headerLength),
  };
}

/** Counts one received packet: ipackets/ipackets6 always, then the drop reason. */
export function countReceived(
  stats: CarpStats,
  family: Family,
  outcome: ReceiveOutcome<unknown>,
): void {
  if (family === 4) stats.ipackets++;
  else stats.ipackets6++;
  if (outcome.kind === "dropped") stats[outcome.counter]++;
  if (outcome.kind === "ignored" && outcome.why === "own") stats.ownpackets++;
}
