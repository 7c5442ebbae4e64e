/**
 * Conntrack entry ⇄ pfsync `State`, in the "LX1" encoding of spec
 * conntrack-netlink.md §4.4: the 224-byte pfsync v2 record stays intact and
 * pf-faithful where pf has a concept; what only a Linux peer needs rides in
 * fields that mean nothing between two Linux hosts.
 *
 *   record field            LX1 content
 *   ---------------------   ------------------------------------------------
 *   direction/lan/gwy/ext   tuples (rule 3): OUT lan→ext via gwy (SNAT), IN
 *                           ext→gwy rdr to lan (DNAT); double NAT: OUT with the
 *                           reply source in rt_addr + ext.pad[0], flag DOUBLE_NAT
 *   port                    L4 port or ICMP id
 *   src/dst.state           pf approximation (tcp_states.ts) / SINGLE, MULTIPLE
 *   src.pad[0] (off 123)    exact ct TCP state
 *   src/dst.pad[1]          ct TCP flags of the original / reply direction
 *   src/dst.pad[2], pad[3]  ICMP type / code of the original / reply tuple
 *   src/dst.wscale          ct window scale | 0x80 if WINDOW_SCALE flag
 *   rule                    CTA_MARK
 *   anchor                  CTA_STATUS (informational, all bits)
 *   nat_rule                zone << 16 | lx flags (bit 0 DOUBLE_NAT)
 *   ifname                  helper name or ""
 *   expire / creation       CTA_TIMEOUT / age in seconds; timeout = pf index
 *   packets/bytes           counters, truncated to 32 bits (informational)
 *   id                      epoch << 32 | CTA_ID here; the provider's mirror sends
 *                           (epoch ^ hash(tuple, zone)) << 32 | CTA_ID instead, because
 *                           32-bit CTA_IDs collide at 100 k entries (mirror.ts flowId)
 *
 * Lost going Linux → State (and so to the peer): labels, seq-adjust,
 * synproxy, expectations and their master tuple, secmark/secctx, helper
 * private data, directional tuple zones, status bits above 16 in meaning
 * (the receiver only replays SEEN_REPLY/ASSURED), counters above 2^32 and
 * exactness of counters at all (they cannot be injected), timestamps (only
 * the age survives), the TCP window-tracking data (never exported by the
 * kernel; the receiver sends BE_LIBERAL instead), CTA_ID (host-local).
 *
 * Lost going State → Linux: pf's sequence windows and modulation (seqlo,
 * seqhi, seqdiff, max_win, mss — a modulated pf connection cannot continue on
 * Linux at all), scrub data, rule/anchor/NAT-rule numbers of a pf sender
 * (read as mark/status/zone, so LX1 is only meaningful between LX1 peers),
 * route-to, interface binding, log/allow_opts, the second per-peer TCP state
 * (two states collapse into one), counters, pf timeout classes (the remaining
 * time in `expire` is used; 0 falls back to the pf default of the class, at
 * least 60 s).
 */
import { formatAddress } from "../../net/address.ts";
import {
  IP_CT_TCP_FLAG,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPS,
  TCP_CONNTRACK,
} from "../../netlink/ct_constants.ts";
import type { CtEntry, CtTuple } from "../../netlink/ct_types.ts";
import {
  AF_INET,
  AF_INET6_FREEBSD,
  isInet6,
  PF_IN,
  PF_OUT,
  type State,
  type StateHost,
  type StatePeer,
  timeoutSeconds,
} from "../types.ts";
import { writePfAddr } from "../addr.ts";
import { ctTcpToPf, PEER, pfTcpToCt, pfTimeoutFor } from "./tcp_states.ts";

/** nat_rule low bits. */
export const LX_FLAG_DOUBLE_NAT = 0x0001;
export const LX_FLAG_HAS_LABELS = 0x0002;

/** Window-scale byte flag, pf's "scaling negotiated" convention. */
const WSCALE_NEGOTIATED = 0x80;
const WSCALE_SHIFT_MASK = 0x0f;

/** Flag bits a receiver applies; the rest are the kernel's own bookkeeping. */
export const LX1_TCP_FLAG_MASK = IP_CT_TCP_FLAG.WINDOW_SCALE | IP_CT_TCP_FLAG.SACK_PERM |
  IP_CT_TCP_FLAG.CLOSE_INIT | IP_CT_TCP_FLAG.BE_LIBERAL;

export interface ToStateContext {
  /** This agent's 32-bit node id. */
  readonly creatorId: number;
  /** Sender boot/epoch counter, the high half of `id`. */
  readonly epoch: number;
  /** Age of the entry in seconds (from CTA_TIMESTAMP or first sight); 0 if unknown. */
  readonly ageSeconds?: number;
  /** The pfsync id to give the State (default: `epoch << 32 | CTA_ID`). */
  readonly id?: bigint;
}

export interface ToCtOptions {
  /**
   * true (default, conntrackd's choice): BE_LIBERAL in both directions so a
   * taken-over bulk transfer is never dropped as INVALID (spec §2.12).
   * false: window tracking with the replicated scales instead.
   */
  readonly liberal?: boolean;
  /** Send the helper name on create (default true). */
  readonly helpers?: boolean;
  /**
   * Seconds added to the injected timeout (default 0). Traffic refreshes on
   * the sender emit no event and reach us only with its next sweep; the
   * grace keeps our copy alive until then (provider: 1.5 × sweep period).
   */
  readonly timeoutGraceSeconds?: number;
}

function samePoint(a: Uint8Array, aPort: number, b: Uint8Array, bPort: number): boolean {
  if (aPort !== bPort || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const isIcmp = (proto: number): boolean => proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;

/** Port or ICMP id of each end of a tuple. */
function ports(t: CtTuple): [number, number] {
  if (isIcmp(t.proto)) return [t.icmpId ?? 0, t.icmpId ?? 0];
  return [t.srcPort ?? 0, t.dstPort ?? 0];
}

function host(addr: Uint8Array, port: number, pad0 = 0): StateHost {
  const text = formatAddress(addr);
  return pad0 ? { addr: text, port, pad: [pad0, 0, 0] } : { addr: text, port };
}

function peer(state: number, wscale: number, pad: readonly number[]): StatePeer {
  let nonZero = false;
  for (let i = 0; i < pad.length; i++) if (pad[i] !== 0) nonZero = true;
  return nonZero
    ? { seqlo: 0, seqhi: 0, seqdiff: 0, maxWin: 0, mss: 0, state, wscale, pad }
    : { seqlo: 0, seqhi: 0, seqdiff: 0, maxWin: 0, mss: 0, state, wscale };
}

const NO_PAD: readonly number[] = [];

/** The low 32 bits of a counter (no bigint arithmetic when, as in events, there is none). */
const low32 = (value: bigint | undefined): number =>
  value === undefined ? 0 : Number(value & 0xffffffffn);

/**
 * A conntrack entry (event or dump) → State. Entries need both tuples; the
 * caller filters DESTROY-only fragments before calling.
 */
export function ctToState(entry: CtEntry, ctx: ToStateContext): State {
  const orig = entry.orig;
  const reply = entry.reply;
  if (!orig || !reply) throw new RangeError("ctToState: the entry needs both tuples");
  const v6 = orig.src.length === 16;
  const [oSport, oDport] = ports(orig);
  const [rSport, rDport] = ports(reply);
  const dnat = !samePoint(reply.src, rSport, orig.dst, oDport);
  const snat = !samePoint(reply.dst, rDport, orig.src, oSport);
  let lxFlags = entry.labels?.some((b) => b !== 0) ? LX_FLAG_HAS_LABELS : 0;
  let direction = PF_OUT;
  let lan: StateHost, gwy: StateHost, ext: StateHost;
  let rtAddr = v6 ? "::" : "0.0.0.0";
  if (dnat && !snat) {
    direction = PF_IN;
    ext = host(orig.src, oSport);
    gwy = host(orig.dst, oDport);
    lan = host(reply.src, rSport);
  } else if (dnat) {
    lxFlags |= LX_FLAG_DOUBLE_NAT;
    lan = host(orig.src, oSport);
    ext = host(orig.dst, oDport, rSport);
    gwy = host(reply.dst, rDport);
    rtAddr = formatAddress(reply.src);
  } else {
    lan = host(orig.src, oSport);
    ext = host(orig.dst, oDport);
    gwy = host(reply.dst, rDport);
  }

  const status = entry.status ?? IPS.CONFIRMED;
  const seenReply = (status & IPS.SEEN_REPLY) !== 0;
  let src: StatePeer, dst: StatePeer, timeout: number;
  if (orig.proto === IPPROTO_TCP) {
    // Offloaded entries carry no protoinfo in dumps (spec §7 item 6): treat as ESTABLISHED.
    const ctState = entry.tcp?.state ?? TCP_CONNTRACK.ESTABLISHED;
    const fo = entry.tcp?.flagsOriginal?.flags ?? 0;
    const fr = entry.tcp?.flagsReply?.flags ?? 0;
    const pf = ctTcpToPf(ctState, fo, fr);
    const wo = wscaleByte(entry.tcp?.wscaleOriginal, fo);
    const wr = wscaleByte(entry.tcp?.wscaleReply, fr);
    src = peer(pf.src, wo, [ctState, fo, 0, 0, 0]);
    dst = peer(pf.dst, wr, [0, fr, 0, 0, 0]);
    timeout = pf.timeout;
  } else {
    const icmp = isIcmp(orig.proto);
    src = peer(PEER.SINGLE, 0, icmp ? [0, 0, orig.icmpType ?? 0, orig.icmpCode ?? 0, 0] : NO_PAD);
    dst = peer(
      seenReply ? PEER.MULTIPLE : PEER.NO_TRAFFIC,
      0,
      icmp ? [0, 0, reply.icmpType ?? 0, reply.icmpCode ?? 0, 0] : NO_PAD,
    );
    timeout = pfTimeoutFor(orig.proto, seenReply);
  }

  return {
    id: ctx.id ?? (BigInt(ctx.epoch >>> 0) << 32n) | BigInt((entry.id ?? 0) >>> 0),
    creatorId: ctx.creatorId >>> 0,
    ifname: entry.help?.name.slice(0, 15) ?? "",
    lan,
    gwy,
    ext,
    src,
    dst,
    rtAddr,
    rule: (entry.mark ?? 0) >>> 0,
    anchor: status >>> 0,
    natRule: (((entry.zone ?? 0) & 0xffff) << 16 | lxFlags) >>> 0,
    creation: Math.max(0, Math.floor(ctx.ageSeconds ?? 0)),
    expire: entry.timeout ?? timeoutSeconds(timeout),
    packets: [low32(entry.countersOrig?.packets), low32(entry.countersReply?.packets)],
    bytes: [low32(entry.countersOrig?.bytes), low32(entry.countersReply?.bytes)],
    af: v6 ? AF_INET6_FREEBSD : AF_INET,
    proto: orig.proto,
    direction,
    log: 0,
    allowOpts: 0,
    timeout,
    syncFlags: 0,
    updates: 0,
  };
}

function wscaleByte(scale: number | undefined, flags: number): number {
  const negotiated = (flags & IP_CT_TCP_FLAG.WINDOW_SCALE) !== 0 ? WSCALE_NEGOTIATED : 0;
  return ((scale ?? 0) & WSCALE_SHIFT_MASK) | negotiated;
}

/** Address text → bytes through the state table's hand-rolled parser (hot on the apply path). */
function addr(text: string, v6: boolean): Uint8Array {
  const out = new Uint8Array(16);
  if (text.includes(":") !== v6 || !writePfAddr(text, out, 0)) {
    throw new RangeError(`LX1: ${text} is not an IPv${v6 ? 6 : 4} address`);
  }
  return v6 ? out : out.subarray(0, 4);
}

function tuple(
  proto: number,
  src: Uint8Array,
  sport: number,
  dst: Uint8Array,
  dport: number,
  icmp?: readonly number[],
): CtTuple {
  if (isIcmp(proto)) {
    return { src, dst, proto, icmpId: sport, icmpType: icmp?.[2] ?? 0, icmpCode: icmp?.[3] ?? 0 };
  }
  return { src, dst, proto, srcPort: sport, dstPort: dport };
}

/** ICMP/ICMPv6 query types and their replies: what the kernel's reply tuple carries. */
const ICMP_REPLY_TYPE: Record<number, Record<number, number>> = {
  [IPPROTO_ICMP]: { 8: 0, 13: 14, 15: 16, 17: 18 },
  [IPPROTO_ICMPV6]: { 128: 129 },
};

/** The reply tuple of a flow without NAT: ends swapped, ICMP queries answered. */
export function mirrorTuple(t: CtTuple): CtTuple {
  if (isIcmp(t.proto)) {
    const type = t.icmpType === undefined
      ? undefined
      : ICMP_REPLY_TYPE[t.proto][t.icmpType] ?? t.icmpType;
    return { ...t, src: t.dst, dst: t.src, ...(type === undefined ? {} : { icmpType: type }) };
  }
  return { ...t, src: t.dst, dst: t.src, srcPort: t.dstPort, dstPort: t.srcPort };
}

/** The real original and reply tuples a State describes (rule 3, receiver side). */
export function stateTuples(state: State): { orig: CtTuple; reply: CtTuple } {
  const v6 = isInet6(state.af);
  const { lan, gwy, ext, proto } = state;
  const sPad = state.src.pad;
  const dPad = state.dst.pad;
  if (state.direction === PF_IN) {
    return {
      orig: tuple(proto, addr(ext.addr, v6), ext.port, addr(gwy.addr, v6), gwy.port, sPad),
      reply: tuple(proto, addr(lan.addr, v6), lan.port, addr(ext.addr, v6), ext.port, dPad),
    };
  }
  const orig = tuple(proto, addr(lan.addr, v6), lan.port, addr(ext.addr, v6), ext.port, sPad);
  const double = (state.natRule & LX_FLAG_DOUBLE_NAT) !== 0;
  const replySrc = double ? addr(state.rtAddr, v6) : orig.dst;
  const replySport = double ? ext.pad?.[0] ?? 0 : ext.port;
  return { orig, reply: tuple(proto, replySrc, replySport, addr(gwy.addr, v6), gwy.port, dPad) };
}

/** (original tuple, zone): how the kernel and the receiver address an entry. */
export function stateCtKey(state: State): { orig: CtTuple; zone: number } {
  return { orig: stateTuples(state).orig, zone: state.natRule >>> 16 };
}

/** Remaining lifetime to inject: `expire`, or the pf class default (≥ 60 s) when 0. */
export function stateTimeout(state: State): number {
  if (state.expire > 0) return state.expire;
  return Math.max(timeoutSeconds(state.timeout), 60);
}

/**
 * The create request body for a State (receiver rule 14): original tuple,
 * the mirrored reply tuple and NAT attributes for the kernel to derive the
 * real reply tuple (a hand-made asymmetric reply would not translate, rule 7),
 * status `(anchor & (SEEN_REPLY|ASSURED)) | CONFIRMED`, timeout, mark, zone,
 * TCP protoinfo and helper.
 */
export function stateToCt(state: State, options: ToCtOptions = {}): CtEntry {
  const { orig, reply } = stateTuples(state);
  const mirror: CtTuple = isIcmp(orig.proto)
    ? { ...reply, src: orig.dst, dst: orig.src, icmpId: orig.icmpId }
    : { ...orig, src: orig.dst, dst: orig.src, srcPort: orig.dstPort, dstPort: orig.srcPort };
  const [oSport, oDport] = ports(orig);
  const [rSport, rDport] = ports(reply);
  const portful = orig.proto !== IPPROTO_ICMP && orig.proto !== IPPROTO_ICMPV6 &&
    orig.srcPort !== undefined;
  const natSrc = samePoint(reply.dst, rDport, orig.src, oSport)
    ? undefined
    : { minIp: reply.dst, ...(portful ? { minPort: rDport, maxPort: rDport } : {}) };
  const natDst = samePoint(reply.src, rSport, orig.dst, oDport)
    ? undefined
    : { minIp: reply.src, ...(portful ? { minPort: rSport, maxPort: rSport } : {}) };
  const zone = state.natRule >>> 16;
  const entry: CtEntry = {
    orig,
    reply: mirror,
    status: (state.anchor & (IPS.SEEN_REPLY | IPS.ASSURED)) | IPS.CONFIRMED,
    timeout: stateTimeout(state) + Math.max(0, Math.round(options.timeoutGraceSeconds ?? 0)),
    mark: state.rule >>> 0,
    ...(zone ? { zone } : {}),
    ...(natSrc ? { natSrc } : {}),
    ...(natDst ? { natDst } : {}),
    ...(orig.proto === IPPROTO_TCP ? { tcp: tcpInfo(state, options.liberal ?? true) } : {}),
    ...(state.ifname && (options.helpers ?? true) ? { help: { name: state.ifname } } : {}),
  };
  return entry;
}

function tcpInfo(state: State, liberal: boolean): NonNullable<CtEntry["tcp"]> {
  const exact = state.src.pad?.[0] ?? 0;
  const ctState = exact > 0 && exact <= TCP_CONNTRACK.SYN_SENT2
    ? exact
    : pfTcpToCt(state.src.state, state.dst.state);
  const so = state.src.wscale;
  const sr = state.dst.wscale;
  const flags = (received: number, wscale: number): { flags: number; mask: number } => {
    let f = received & LX1_TCP_FLAG_MASK;
    if (wscale & WSCALE_NEGOTIATED) f |= IP_CT_TCP_FLAG.WINDOW_SCALE;
    f = liberal ? f | IP_CT_TCP_FLAG.BE_LIBERAL : f & ~IP_CT_TCP_FLAG.BE_LIBERAL;
    return { flags: f, mask: LX1_TCP_FLAG_MASK };
  };
  return {
    state: ctState,
    wscaleOriginal: so & WSCALE_SHIFT_MASK,
    wscaleReply: sr & WSCALE_SHIFT_MASK,
    flagsOriginal: flags(state.src.pad?.[1] ?? 0, so),
    flagsReply: flags(state.dst.pad?.[1] ?? 0, sr),
  };
}
