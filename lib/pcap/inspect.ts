/**
 * What `pfsyncd decode` reports for one captured frame: the CARP (IP protocol
 * 112) or pfsync (IP protocol 240) packet inside it, field by field, with the
 * checks a receiver makes, in the receiver's order (carp.md §1.5, pfsync.md
 * §6.1). Pure: bytes and options in, a plain report out; the codecs are the
 * ones the agent itself runs (lib/net/ipv4.ts, lib/carp, lib/pfsync).
 *
 * A packet that a receiver would drop still gets a report: the failed check
 * names the counter it would increment, and decoding stops where the
 * receiver would stop.
 */
import { DecodeError } from "../bytes/errors.ts";
import { onesComplementSum } from "../bytes/checksum.ts";
import { formatAddress, formatMac } from "../net/address.ts";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from "../net/ethernet.ts";
import { decodeIPv4Header } from "../net/ipv4.ts";
import { decodeLinkFrame, PACKET_TYPE_NAMES } from "./link.ts";
import type { PcapRecord } from "./file.ts";
import { PROTOCOL_NAMES, PROTOCOLS } from "./protocols.ts";
import type { Check, InspectOptions, InspectResult, Network, PacketReport } from "./report.ts";

export type {
  Check,
  InspectOptions,
  InspectResult,
  PacketReport,
  RecordView,
  VhostOption,
  VipOption,
} from "./report.ts";

const IPV6_HEADER_LENGTH = 40;

/** Inspects one captured frame of link type `linktype`. Never throws on bad input. */
export function inspectFrame(
  linktype: number,
  record: PcapRecord,
  options: InspectOptions = {},
): InspectResult {
  let link;
  try {
    link = decodeLinkFrame(linktype, record.data);
  } catch (error) {
    if (error instanceof DecodeError) return { kind: "skipped", why: error.message };
    throw error;
  }
  let net: Network | undefined;
  try {
    net = link.etherType === ETHERTYPE_IPV4
      ? ipv4(link.payload)
      : link.etherType === ETHERTYPE_IPV6
      ? ipv6(link.payload)
      : undefined;
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    // A broken IP header (a capture cut by its snaplen, a bad length) still
    // names its protocol: a CARP or pfsync packet is reported, not skipped.
    const protocol = link.etherType === ETHERTYPE_IPV4
      ? link.payload[9]
      : link.etherType === ETHERTYPE_IPV6
      ? link.payload[6]
      : undefined;
    const name = protocol === undefined ? undefined : PROTOCOL_NAMES[protocol];
    if (!name) return { kind: "skipped", why: `not a decodable IP packet: ${error.message}` };
    const family = link.etherType === ETHERTYPE_IPV6 ? 6 : 4;
    return { kind: "packet", report: malformedIp(record, family, name, error) };
  }
  if (!net) return { kind: "skipped", why: `EtherType 0x${link.etherType.toString(16)}` };
  const decoder = PROTOCOLS[net.protocol];
  if (!decoder) return { kind: "skipped", why: `IP protocol ${net.protocol}` };
  const base = {
    index: record.index,
    seconds: record.seconds,
    nanos: record.nanos,
    family: net.family,
    source: net.source,
    destination: net.destination,
    ...(link.source ? { linkSource: formatMac(link.source) } : {}),
    ...(link.packetType !== undefined
      ? { direction: PACKET_TYPE_NAMES[link.packetType] ?? String(link.packetType) }
      : {}),
    ttl: net.ttl,
    length: net.payload.length,
  };
  return { kind: "packet", report: decoder(base, net, options) };
}

function ipv4(bytes: Uint8Array): Network {
  // The stack verifies the header checksum before any protocol sees the packet;
  // report it as a check rather than refusing to look further.
  const header = decodeIPv4Header(bytes, 0, { verifyChecksum: false });
  const sumOk = onesComplementSum(bytes.subarray(0, header.headerLength)) === 0xffff;
  const checks: Check[] = [{
    name: "ipsum",
    ok: sumOk,
    detail: `IPv4 header checksum 0x${header.checksum.toString(16).padStart(4, "0")}`,
    ...(sumOk ? {} : { reason: "badsum" }),
  }];
  if (header.moreFragments || header.fragmentOffset > 0) {
    throw new DecodeError("badlen", "an IPv4 fragment (not reassembled)", 6);
  }
  return {
    family: 4,
    source: formatAddress(header.source),
    destination: formatAddress(header.destination),
    ttl: header.ttl,
    protocol: header.protocol,
    payload: bytes.subarray(header.headerLength, header.totalLength),
    checks,
  };
}

/** The fixed IPv6 header only: CARP and pfsync senders put no extension headers in. */
function ipv6(bytes: Uint8Array): Network {
  if (bytes.length < IPV6_HEADER_LENGTH) {
    throw new DecodeError("badlen", `IPv6 header needs 40 bytes, got ${bytes.length}`, 0);
  }
  if (bytes[0] >> 4 !== 6) throw new DecodeError("badver", `IP version ${bytes[0] >> 4}`, 0);
  const payloadLength = (bytes[4] << 8) | bytes[5];
  if (IPV6_HEADER_LENGTH + payloadLength > bytes.length) {
    throw new DecodeError(
      "badlen",
      `payload length ${payloadLength} exceeds the ${bytes.length - 40} bytes captured`,
      4,
    );
  }
  return {
    family: 6,
    source: formatAddress(bytes.slice(8, 24)),
    destination: formatAddress(bytes.slice(24, 40)),
    ttl: bytes[7],
    protocol: bytes[6],
    payload: bytes.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
    checks: [],
  };
}

function malformedIp(
  record: PcapRecord,
  family: 4 | 6,
  protocol: "carp" | "pfsync",
  error: DecodeError,
): PacketReport {
  return {
    index: record.index,
    seconds: record.seconds,
    nanos: record.nanos,
    protocol,
    family,
    source: "?",
    destination: "?",
    ttl: 0,
    length: 0,
    checks: [{ name: "ip", ok: false, detail: error.message, reason: error.reason }],
    ok: false,
    error: { reason: error.reason, message: `IP header: ${error.message}`, offset: error.offset },
    summary: `${protocol === "carp" ? "CARP" : "pfsync"} (IP header unreadable)`,
    fields: {},
    records: [],
  };
}
