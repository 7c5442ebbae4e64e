/**
 * The firewall state model shared by pfsync, the providers and the CLI.
 *
 * A `State` carries every field of the pfsync version-2 `pfsync_state` record
 * (224 bytes, spec pfsync.md §3.2) so a record decodes to a State and encodes
 * back to the same bytes. Representation choices:
 *
 * - `id` is a `bigint`: the big-endian 64-bit wire value (spec §8). It is
 *   printed as 16 hex digits (`formatStateId`).
 * - `creatorId` is a `number` (unsigned 32-bit, the big-endian wire word).
 * - Addresses are text. An IPv4 text writes 4 bytes followed by 12 zero
 *   bytes, an IPv6 text writes all 16 bytes. A decoder shows IPv4 text only
 *   when af is AF_INET and bytes 4–15 are zero, so even odd records survive
 *   the round trip.
 * - `creation` is the record's age in seconds and `expire` the wire expire
 *   value, both relative to the moment the object was made, exactly as on the
 *   wire; the state table keeps absolute times instead.
 * - `ifname` is the name up to its first NUL as Latin-1 (bytes after the NUL
 *   are not kept; state records are zero-filled by every sender).
 * - Scrub blocks and pad bytes are optional (absent = zero). They are zero in
 *   the BSD senders of this era but the Linux "LX1" encoding stores data in
 *   peer and host pads, so they are kept.
 */

export interface StateKey {
  readonly id: bigint;
  readonly creatorId: number;
}

export interface StateHost {
  readonly addr: string;
  /** Port or ICMP id, host order here (network order on the wire). */
  readonly port: number;
  /** The three u16 pad words after the port. */
  readonly pad?: readonly [number, number, number];
}

export interface StateScrub {
  readonly flags: number;
  readonly ttl: number;
  readonly scrubFlag: number;
  readonly tsMod: number;
}

export interface StatePeer {
  readonly seqlo: number;
  readonly seqhi: number;
  readonly seqdiff: number;
  readonly maxWin: number;
  readonly mss: number;
  /** TCPS_* level for TCP, 0/1/2 (NO_TRAFFIC/SINGLE/MULTIPLE) otherwise. */
  readonly state: number;
  /** Low nibble = shift, 0x80 = scaling negotiated. */
  readonly wscale: number;
  readonly scrub?: StateScrub;
  readonly scrubFlag?: number;
  /** The five pad bytes at the end of the peer block. */
  readonly pad?: readonly number[];
}

export interface State extends StateKey {
  readonly ifname: string;
  readonly lan: StateHost;
  readonly gwy: StateHost;
  readonly ext: StateHost;
  readonly src: StatePeer;
  readonly dst: StatePeer;
  readonly rtAddr: string;
  readonly rule: number;
  readonly anchor: number;
  readonly natRule: number;
  /** Age in seconds. */
  readonly creation: number;
  readonly expire: number;
  readonly packets: readonly [number, number];
  readonly bytes: readonly [number, number];
  /** BSD address family number: 2, or 28 (FreeBSD) / 24 (OpenBSD) for IPv6. */
  readonly af: number;
  readonly proto: number;
  /** 0 INOUT, 1 IN, 2 OUT. */
  readonly direction: number;
  readonly log: number;
  readonly allowOpts: number;
  /** Index into the PFTM_* table. */
  readonly timeout: number;
  readonly syncFlags: number;
  readonly updates: number;
}

export const AF_INET = 2;
export const AF_INET6_FREEBSD = 28;
export const AF_INET6_OPENBSD = 24;

export const PF_INOUT = 0;
export const PF_IN = 1;
export const PF_OUT = 2;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_PFSYNC = 240;

export const SYNC_FLAG_NOSYNC = 0x01;
export const SYNC_FLAG_FROMSYNC = 0x02;
export const SYNC_FLAG_STALE = 0x04;

/** BSD TCPS_* names plus pf's two synproxy levels; index = value. */
export const TCP_STATE_NAMES: readonly string[] = [
  "CLOSED",
  "LISTEN",
  "SYN_SENT",
  "SYN_RCVD",
  "ESTABLISHED",
  "CLOSE_WAIT",
  "FIN_WAIT_1",
  "CLOSING",
  "LAST_ACK",
  "FIN_WAIT_2",
  "TIME_WAIT",
  "PROXY_SRC",
  "PROXY_DST",
];
export const TCPS_SYN_SENT = 2;
export const TCPS_ESTABLISHED = 4;
export const TCPS_PROXY_SRC = 11;
export const TCP_STATE_MAX = 12;

export const PEER_STATE_NAMES: readonly string[] = ["NO_TRAFFIC", "SINGLE", "MULTIPLE"];
export const PFUDPS_MULTIPLE = 2;

/** pf's PFTM_* timeouts: [name, default seconds]; index = wire value. */
export const PF_TIMEOUTS: readonly (readonly [string, number])[] = [
  ["tcp.first", 120],
  ["tcp.opening", 30],
  ["tcp.established", 86400],
  ["tcp.closing", 900],
  ["tcp.finwait", 45],
  ["tcp.closed", 90],
  ["udp.first", 60],
  ["udp.single", 30],
  ["udp.multiple", 60],
  ["icmp.first", 20],
  ["icmp.error", 10],
  ["other.first", 60],
  ["other.single", 30],
  ["other.multiple", 60],
  ["frag", 30],
  ["interval", 10],
  ["adaptive.start", 0],
  ["adaptive.end", 0],
  ["src.track", 0],
  ["tcp.tsdiff", 30],
];
/** Receivers reject timeout indexes at or above this (verified for FreeBSD 6.2). */
export const PFTM_MAX = 20;
export const PFTM_TCP_ESTABLISHED = 2;
export const PFTM_UDP_MULTIPLE = 8;
export const PFTM_ICMP_FIRST_PACKET = 9;
export const PFTM_OTHER_MULTIPLE = 13;

export const NO_RULE = 0xffffffff;

const PROTO_NAMES: Record<number, string> = { 1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp" };

export function protoName(proto: number): string {
  return PROTO_NAMES[proto] ?? String(proto);
}

export function protoNumber(name: string | number): number | undefined {
  if (typeof name === "number") {
    return Number.isInteger(name) && name >= 0 && name < 256 ? name : undefined;
  }
  if (name === "tcp") return 6; // what nearly every imported line says
  const lower = name.toLowerCase();
  if (lower === "icmp6" || lower === "icmpv6") return 58;
  for (const [num, text] of Object.entries(PROTO_NAMES)) if (text === lower) return Number(num);
  return /^\d+$/.test(lower) && Number(lower) < 256 ? Number(lower) : undefined;
}

export function isInet6(af: number): boolean {
  return af === AF_INET6_FREEBSD || af === AF_INET6_OPENBSD;
}

/** Seconds a state may stay idle under its timeout index (0 for unknown indexes). */
export function timeoutSeconds(index: number): number {
  return PF_TIMEOUTS[index]?.[1] ?? 0;
}

export function formatStateId(id: bigint): string {
  return id.toString(16).padStart(16, "0");
}

export function formatCreatorId(creatorId: number): string {
  return (creatorId >>> 0).toString(16).padStart(8, "0");
}

/** A stable map key for (id, creatorid). */
export function stateKeyString(key: StateKey): string {
  return `${formatStateId(key.id)}/${formatCreatorId(key.creatorId)}`;
}

export function sameKey(a: StateKey, b: StateKey): boolean {
  return a.id === b.id && a.creatorId === b.creatorId;
}

export const ZERO_PEER: StatePeer = Object.freeze({
  seqlo: 0,
  seqhi: 0,
  seqdiff: 0,
  maxWin: 0,
  mss: 0,
  state: 0,
  wscale: 0,
});
