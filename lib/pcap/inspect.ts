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
import { toHex } from "../bytes/hex.ts";
import {
  CARP_DFLTTL,
  CARP_HEADER_LENGTH,
  CARP_PROTOCOL,
  type CarpHeader,
  checkCarpChecksum,
  checkCarpLength,
  checkCarpVersion,
  readCarpHeader,
} from "../carp/header.ts";
import { carpHmac } from "../carp/hmac.ts";
import type { HmacOrder } from "../carp/types.ts";
import { formatAddress, formatMac } from "../net/address.ts";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from "../net/ethernet.ts";
import { decodeIPv4Header } from "../net/ipv4.ts";
import { ACTIONS } from "../pfsync/actions.ts";
import type { PfsyncAuth } from "../pfsync/auth.ts";
import { checkFrame, decodeFrame } from "../pfsync/frame.ts";
import { IPPROTO_PFSYNC, PFSYNC_DFLTTL } from "../pfsync/header.ts";
import { formatRecord, judgeRecord, recordToJson } from "./records_view.ts";
import { decodeLinkFrame, PACKET_TYPE_NAMES } from "./link.ts";
import type { PcapRecord } from "./file.ts";

const IPV6_HEADER_LENGTH = 40;

/** A virtual address the HMAC covers; `vhid` undefined = for every vhid. */
export interface VipOption {
  readonly vhid?: number;
  readonly address: Uint8Array;
}

/** A configured vhid: what a receiver knows that the packet does not carry. */
export interface VhostOption {
  readonly vhid: number;
  readonly pass: string;
  readonly addresses: readonly Uint8Array[];
}

export interface InspectOptions {
  /** CARP passphrase; with `vips` the HMAC is checked. */
  readonly pass?: string;
  readonly vips?: readonly VipOption[];
  /**
   * The vhids of a configuration: an advertisement for another vhid fails the
   * vhid check (badvhid), the others are checked with their own passphrase
   * and addresses (`pass` and `vips` still win when given).
   */
  readonly vhosts?: readonly VhostOption[];
  /** pfsync authentication key; verifies the trailer. Shared across packets (replay check). */
  readonly auth?: PfsyncAuth;
}

/** ok: true passed, false failed (`reason` names the receiver's counter), null not checked. */
export interface Check {
  readonly name: string;
  readonly ok: boolean | null;
  readonly detail: string;
  readonly reason?: string;
}

export interface RecordView {
  readonly text: string;
  readonly json: Record<string, unknown>;
  /** A receiver's per-record verdict ("badstate: …") when it would skip the record. */
  readonly problem?: string;
}

export interface PacketReport {
  readonly index: number;
  /** Seconds since the epoch, with the capture's sub-second part. */
  readonly seconds: number;
  readonly nanos: number;
  readonly protocol: "carp" | "pfsync";
  readonly family: 4 | 6;
  readonly source: string;
  readonly destination: string;
  readonly linkSource?: string;
  readonly direction?: string;
  readonly ttl: number;
  /** Bytes of the CARP or pfsync payload. */
  readonly length: number;
  readonly checks: readonly Check[];
  /** Every check that ran passed and the packet decoded. */
  readonly ok: boolean;
  /** Set when decoding stopped at a malformed field. */
  readonly error?: { readonly reason: string; readonly message: string; readonly offset: number };
  readonly summary: string;
  readonly fields: Record<string, unknown>;
  readonly records: readonly RecordView[];
}

export type InspectResult =
  | { readonly kind: "packet"; readonly report: PacketReport }
  | { readonly kind: "skipped"; readonly why: string };

interface Network {
  family: 4 | 6;
  source: string;
  destination: string;
  ttl: number;
  protocol: number;
  payload: Uint8Array;
  checks: Check[];
}

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

type Base = Omit<
  PacketReport,
  "protocol" | "checks" | "ok" | "error" | "summary" | "fields" | "records"
>;
type ProtocolDecoder = (base: Base, net: Network, options: InspectOptions) => PacketReport;

/** Runs `fn`; a DecodeError becomes a failed check named `name`. Returns whether it passed. */
function step(checks: Check[], name: string, detail: string, fn: () => void): DecodeError | null {
  try {
    fn();
    checks.push({ name, ok: true, detail });
    return null;
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    checks.push({ name, ok: false, detail: error.message, reason: error.reason });
    return error;
  }
}

function ttlCheck(ttl: number, want: number): Check {
  return ttl === want
    ? { name: "ttl", ok: true, detail: `${ttl}` }
    : { name: "ttl", ok: false, detail: `${ttl}, must be ${want}`, reason: "badttl" };
}

function finish(
  base: Base,
  protocol: "carp" | "pfsync",
  checks: Check[],
  error: DecodeError | null,
  summary: string,
  fields: Record<string, unknown>,
  records: RecordView[] = [],
): PacketReport {
  const ok = error === null && checks.every((c) => c.ok !== false);
  return {
    ...base,
    protocol,
    checks,
    ok,
    ...(error
      ? { error: { reason: error.reason, message: error.message, offset: error.offset } }
      : {}),
    summary,
    fields,
    records,
  };
}

const HMAC_ORDERS: readonly HmacOrder[] = ["configured", "sorted"];

function carpPacket(base: Base, net: Network, options: InspectOptions): PacketReport {
  const bytes = net.payload;
  const checks = [...net.checks, ttlCheck(net.ttl, CARP_DFLTTL)];
  const error =
    step(checks, "len", `${bytes.length} ≥ ${CARP_HEADER_LENGTH}`, () => checkCarpLength(bytes)) ??
      step(checks, "sum", "CARP checksum", () => checkCarpChecksum(bytes)) ??
      step(checks, "ver", "version 2", () => checkCarpVersion(bytes));
  if (error && error.reason === "badlen") {
    return finish(base, "carp", checks, error, "CARP (truncated)", {});
  }
  const header = readCarpHeader(bytes);
  const vhost = options.vhosts?.find((v) => v.vhid === header.vhid);
  if (!error && options.vhosts && !vhost) {
    checks.push({
      name: "vhid",
      ok: false,
      detail: `vhid ${header.vhid} is not configured (${
        options.vhosts.map((v) => v.vhid).join(", ") || "none"
      } are)`,
      reason: "badvhid",
    });
  } else if (!error) {
    if (vhost) checks.push({ name: "vhid", ok: true, detail: `${header.vhid} configured` });
    checks.push(hmacCheck(header, options, vhost));
  }
  const bowOut = header.advbase === 255 && header.advskew === 255;
  const summary = `CARP vhid ${header.vhid} advbase ${header.advbase} advskew ${header.advskew}` +
    `${header.demote ? ` demote ${header.demote}` : ""} counter ${
      header.counter.toString(16).padStart(16, "0")
    }${bowOut ? " (bow-out)" : ""}`;
  const fields = {
    version: header.version,
    type: header.type,
    vhid: header.vhid,
    advskew: header.advskew,
    authlen: header.authlen,
    demote: header.demote,
    advbase: header.advbase,
    checksum: header.checksum,
    counter: header.counter.toString(16).padStart(16, "0"),
    hmac: toHex(header.hmac),
    bowOut,
  };
  return finish(base, "carp", checks, error, summary, fields);
}

function hmacCheck(header: CarpHeader, options: InspectOptions, vhost?: VhostOption): Check {
  if (options.pass === undefined && !options.vips?.length && !vhost) {
    return { name: "hmac", ok: null, detail: "not checked (no --pass)" };
  }
  const given = (options.vips ?? [])
    .filter((v) => v.vhid === undefined || v.vhid === header.vhid)
    .map((v) => v.address);
  const addresses = given.length > 0 ? given : [...(vhost?.addresses ?? [])];
  const pass = options.pass ?? vhost?.pass ?? "";
  if (addresses.length === 0) {
    return {
      name: "hmac",
      ok: null,
      detail:
        `not checked: the HMAC covers the virtual addresses; give --vip for vhid ${header.vhid}`,
    };
  }
  for (const order of HMAC_ORDERS) {
    const want = carpHmac(pass, header.vhid, addresses, header.counter, order);
    if (toHex(want) === toHex(header.hmac)) {
      return { name: "hmac", ok: true, detail: `matches (${order} address order)` };
    }
  }
  return {
    name: "hmac",
    ok: false,
    detail: `does not match passphrase and ${addresses.map(formatAddress).join(", ")}`,
    reason: "badauth",
  };
}

function pfsyncPacket(base: Base, net: Network, options: InspectOptions): PacketReport {
  const bytes = net.payload;
  const checks = [...net.checks, ttlCheck(net.ttl, PFSYNC_DFLTTL)];
  if (net.family === 6) {
    checks.push({
      name: "family",
      ok: false,
      detail: "pfsync version 2 runs over IPv4 only",
      reason: "badif",
    });
  }
  let frame;
  let error: DecodeError | null = null;
  try {
    checkFrame(bytes);
    frame = decodeFrame(bytes);
    checks.push({ name: "hdr", ok: true, detail: "version, action and length" });
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    error = e;
    checks.push({ name: "hdr", ok: false, detail: e.message, reason: e.reason });
  }
  const head = bytes.length >= 4
    ? { version: bytes[0], af: bytes[1], action: bytes[2], count: bytes[3] }
    : undefined;
  const spec = head ? ACTIONS[head.action] : undefined;
  const name = spec?.name ?? (head ? `action ${head.action}` : "?");
  if (!frame || !head) {
    const summary = head
      ? `pfsync v${head.version} ${name} count ${head.count} len ${bytes.length}`
      : `pfsync (truncated, ${bytes.length} bytes)`;
    return finish(base, "pfsync", checks, error, summary, head ?? {});
  }
  const trailing = bytes.length - frame.end;
  if (options.auth) {
    const verdict = options.auth.verify(bytes, frame.end, net.source);
    checks.push({
      name: "auth",
      ok: verdict === "ok",
      detail: verdict === "ok" ? "trailer HMAC-SHA256 ok" : `trailer ${verdict}`,
      ...(verdict === "ok" ? {} : { reason: "badauth" }),
    });
  } else if (
    trailing >= 48 &&
    new DataView(bytes.buffer, bytes.byteOffset).getUint32(frame.end) === 0x50534131
  ) {
    checks.push({ name: "auth", ok: null, detail: "trailer present, not checked (no --auth-key)" });
  }
  const records = (frame.message.records as readonly unknown[]).map((r) => {
    const problem = judgeRecord(head.action, r);
    return {
      text: formatRecord(head.action, r),
      json: recordToJson(head.action, r),
      ...(problem ? { problem } : {}),
    };
  });
  const summary = `pfsync v${head.version} ${name} count ${head.count} len ${bytes.length}${
    trailing > 0 ? ` (+${trailing} trailing)` : ""
  }`;
  return finish(base, "pfsync", checks, null, summary, {
    version: head.version,
    af: head.af,
    action: head.action,
    actionName: name,
    count: head.count,
    trailing,
  }, records);
}

const PROTOCOL_NAMES: Readonly<Record<number, "carp" | "pfsync">> = {
  [CARP_PROTOCOL]: "carp",
  [IPPROTO_PFSYNC]: "pfsync",
};

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

/** Protocol decoders by IP protocol number. */
const PROTOCOLS: Readonly<Record<number, ProtocolDecoder>> = {
  [CARP_PROTOCOL]: carpPacket,
  [IPPROTO_PFSYNC]: pfsyncPacket,
};
