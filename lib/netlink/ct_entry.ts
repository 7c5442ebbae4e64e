/**
 * Conntrack entry attributes (the part of a ctnetlink message after
 * nfgenmsg) ⇄ `CtEntry`. Decoding goes through one table per nest
 * (spec §2.2–§2.5); encoding writes the kernel's own event order so that
 * events and dumps re-encode byte for byte:
 *
 *   TUPLE_ORIG, TUPLE_REPLY, TUPLE_MASTER, ZONE, ID, STATUS, STATUS_MASK,
 *   TIMEOUT, COUNTERS_ORIG, COUNTERS_REPLY, TIMESTAMP, USE, PROTOINFO, HELP,
 *   NAT_SRC, NAT_DST, SEQ_ADJ_ORIG, SEQ_ADJ_REPLY, SYNPROXY, MARK, MARK_MASK,
 *   LABELS, LABELS_MASK, SECCTX, TIMESTAMP_EVENT
 *
 * Order does not matter to the kernel (§1.7 rule 5); it only makes vectors
 * comparable. Absent optional fields are not written.
 */
import { DecodeError } from "../bytes/errors.ts";
import {
  type AttrHandler,
  type AttrWriter,
  decodeAttrs,
  decodeNest,
  type Mutable,
  readAddress,
  readBe16,
  readBe32,
  readBe64,
  readString,
  readU8,
} from "./ct_attr.ts";
import {
  CTA,
  CTA_COUNTERS,
  CTA_HELP,
  CTA_IP,
  CTA_NAT,
  CTA_PROTO,
  CTA_PROTOINFO,
  CTA_PROTOINFO_TCP,
  CTA_PROTONAT,
  CTA_SECCTX,
  CTA_SEQADJ,
  CTA_SYNPROXY,
  CTA_TIMESTAMP,
  CTA_TUPLE,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
} from "./ct_constants.ts";
import type {
  CtCounters,
  CtEntry,
  CtHelp,
  CtNat,
  CtSeqAdj,
  CtSynproxy,
  CtTcpInfo,
  CtTimestamp,
  CtTuple,
} from "./ct_types.ts";

// ---------------------------------------------------------------- decode tables

interface TupleIp {
  src?: Uint8Array;
  dst?: Uint8Array;
}

const IP_TABLE: AttrHandler<TupleIp>[] = [];
IP_TABLE[CTA_IP.V4_SRC] = (p, at, t) => t.src = readAddress(p, 4, at, "CTA_IP_V4_SRC");
IP_TABLE[CTA_IP.V4_DST] = (p, at, t) => t.dst = readAddress(p, 4, at, "CTA_IP_V4_DST");
IP_TABLE[CTA_IP.V6_SRC] = (p, at, t) => t.src = readAddress(p, 16, at, "CTA_IP_V6_SRC");
IP_TABLE[CTA_IP.V6_DST] = (p, at, t) => t.dst = readAddress(p, 16, at, "CTA_IP_V6_DST");

type TupleProto = Omit<Mutable<CtTuple>, "src" | "dst" | "zone">;

const PROTO_TABLE: AttrHandler<TupleProto>[] = [];
PROTO_TABLE[CTA_PROTO.NUM] = (p, at, t) => t.proto = readU8(p, at, "CTA_PROTO_NUM");
PROTO_TABLE[CTA_PROTO.SRC_PORT] = (p, at, t) => t.srcPort = readBe16(p, at, "CTA_PROTO_SRC_PORT");
PROTO_TABLE[CTA_PROTO.DST_PORT] = (p, at, t) => t.dstPort = readBe16(p, at, "CTA_PROTO_DST_PORT");
// ICMP and ICMPv6 share the record fields; the protocol number tells them apart.
PROTO_TABLE[CTA_PROTO.ICMP_ID] = (p, at, t) => t.icmpId = readBe16(p, at, "CTA_PROTO_ICMP_ID");
PROTO_TABLE[CTA_PROTO.ICMP_TYPE] = (p, at, t) => t.icmpType = readU8(p, at, "CTA_PROTO_ICMP_TYPE");
PROTO_TABLE[CTA_PROTO.ICMP_CODE] = (p, at, t) => t.icmpCode = readU8(p, at, "CTA_PROTO_ICMP_CODE");
PROTO_TABLE[CTA_PROTO.ICMPV6_ID] = (p, at, t) => t.icmpId = readBe16(p, at, "CTA_PROTO_ICMPV6_ID");
PROTO_TABLE[CTA_PROTO.ICMPV6_TYPE] = (p, at, t) =>
  t.icmpType = readU8(p, at, "CTA_PROTO_ICMPV6_TYPE");
PROTO_TABLE[CTA_PROTO.ICMPV6_CODE] = (p, at, t) =>
  t.icmpCode = readU8(p, at, "CTA_PROTO_ICMPV6_CODE");

interface TupleParts {
  ip?: TupleIp;
  proto?: TupleProto;
  zone?: number;
}

const TUPLE_TABLE: AttrHandler<TupleParts>[] = [];
TUPLE_TABLE[CTA_TUPLE.IP] = (p, at, t) => t.ip = decodeNest(p, at, IP_TABLE);
TUPLE_TABLE[CTA_TUPLE.PROTO] = (p, at, t) => t.proto = decodeNest(p, at, PROTO_TABLE);
TUPLE_TABLE[CTA_TUPLE.ZONE] = (p, at, t) => t.zone = readBe16(p, at, "CTA_TUPLE_ZONE");

/** A tuple without both addresses and a protocol number is useless; charge it to badval. */
function decodeTuple(payload: Uint8Array, at: number, what: string): CtTuple {
  const parts = decodeNest(payload, at, TUPLE_TABLE);
  const { ip, proto } = parts;
  if (!ip?.src || !ip.dst || proto?.proto === undefined) {
    throw new DecodeError("badval", `${what} lacks addresses or protocol number`, at);
  }
  const tuple: Mutable<CtTuple> = { src: ip.src, dst: ip.dst, ...proto, proto: proto.proto };
  if (parts.zone !== undefined) tuple.zone = parts.zone;
  return tuple;
}

const TCP_TABLE: AttrHandler<CtTcpInfo>[] = [];
TCP_TABLE[CTA_PROTOINFO_TCP.STATE] = (p, at, t) => t.state = readU8(p, at, "TCP_STATE");
TCP_TABLE[CTA_PROTOINFO_TCP.WSCALE_ORIGINAL] = (p, at, t) =>
  t.wscaleOriginal = readU8(p, at, "TCP_WSCALE_ORIGINAL");
TCP_TABLE[CTA_PROTOINFO_TCP.WSCALE_REPLY] = (p, at, t) =>
  t.wscaleReply = readU8(p, at, "TCP_WSCALE_REPLY");
TCP_TABLE[CTA_PROTOINFO_TCP.FLAGS_ORIGINAL] = (p, at, t) =>
  t.flagsOriginal = { flags: readU8(p, at, "TCP_FLAGS_ORIGINAL"), mask: flagMask(p) };
TCP_TABLE[CTA_PROTOINFO_TCP.FLAGS_REPLY] = (p, at, t) =>
  t.flagsReply = { flags: readU8(p, at, "TCP_FLAGS_REPLY"), mask: flagMask(p) };

function flagMask(p: Uint8Array): number {
  return p.length >= 2 ? p[1] : 0;
}

interface ProtoInfo {
  tcp?: CtTcpInfo;
}
const PROTOINFO_TABLE: AttrHandler<ProtoInfo>[] = [];
PROTOINFO_TABLE[CTA_PROTOINFO.TCP] = (p, at, t) => t.tcp = decodeNest(p, at, TCP_TABLE);

const PROTONAT_TABLE: AttrHandler<CtNat>[] = [];
PROTONAT_TABLE[CTA_PROTONAT.PORT_MIN] = (p, at, t) => t.minPort = readBe16(p, at, "PORT_MIN");
PROTONAT_TABLE[CTA_PROTONAT.PORT_MAX] = (p, at, t) => t.maxPort = readBe16(p, at, "PORT_MAX");

const NAT_TABLE: AttrHandler<CtNat>[] = [];
NAT_TABLE[CTA_NAT.V4_MINIP] = (p, at, t) => t.minIp = readAddress(p, 4, at, "NAT_V4_MINIP");
NAT_TABLE[CTA_NAT.V4_MAXIP] = (p, at, t) => t.maxIp = readAddress(p, 4, at, "NAT_V4_MAXIP");
NAT_TABLE[CTA_NAT.V6_MINIP] = (p, at, t) => t.minIp = readAddress(p, 16, at, "NAT_V6_MINIP");
NAT_TABLE[CTA_NAT.V6_MAXIP] = (p, at, t) => t.maxIp = readAddress(p, 16, at, "NAT_V6_MAXIP");
NAT_TABLE[CTA_NAT.PROTO] = (p, at, t) => decodeAttrs(p, 0, p.length, PROTONAT_TABLE, t, at);

const COUNTERS_TABLE: AttrHandler<CtCounters>[] = [];
COUNTERS_TABLE[CTA_COUNTERS.PACKETS] = (p, at, t) => t.packets = readBe64(p, at, "PACKETS");
COUNTERS_TABLE[CTA_COUNTERS.BYTES] = (p, at, t) => t.bytes = readBe64(p, at, "BYTES");
// The obsolete 32-bit forms still decode so old kernels are not counted as errors.
COUNTERS_TABLE[CTA_COUNTERS.PACKETS32] = (p, at, t) =>
  t.packets = BigInt(readBe32(p, at, "PACKETS32"));
COUNTERS_TABLE[CTA_COUNTERS.BYTES32] = (p, at, t) => t.bytes = BigInt(readBe32(p, at, "BYTES32"));

const TIMESTAMP_TABLE: AttrHandler<CtTimestamp>[] = [];
TIMESTAMP_TABLE[CTA_TIMESTAMP.START] = (p, at, t) => t.start = readBe64(p, at, "TS_START");
TIMESTAMP_TABLE[CTA_TIMESTAMP.STOP] = (p, at, t) => t.stop = readBe64(p, at, "TS_STOP");

const SEQADJ_TABLE: AttrHandler<Partial<CtSeqAdj>>[] = [];
SEQADJ_TABLE[CTA_SEQADJ.CORRECTION_POS] = (p, at, t) =>
  t.correctionPos = readBe32(p, at, "CORRECTION_POS");
SEQADJ_TABLE[CTA_SEQADJ.OFFSET_BEFORE] = (p, at, t) =>
  t.offsetBefore = readBe32(p, at, "OFFSET_BEFORE");
SEQADJ_TABLE[CTA_SEQADJ.OFFSET_AFTER] = (p, at, t) =>
  t.offsetAfter = readBe32(p, at, "OFFSET_AFTER");

function decodeSeqAdj(p: Uint8Array, at: number): CtSeqAdj {
  const s = decodeNest(p, at, SEQADJ_TABLE);
  return {
    correctionPos: s.correctionPos ?? 0,
    offsetBefore: s.offsetBefore ?? 0,
    offsetAfter: s.offsetAfter ?? 0,
  };
}

const SYNPROXY_TABLE: AttrHandler<Partial<CtSynproxy>>[] = [];
SYNPROXY_TABLE[CTA_SYNPROXY.ISN] = (p, at, t) => t.isn = readBe32(p, at, "SYNPROXY_ISN");
SYNPROXY_TABLE[CTA_SYNPROXY.ITS] = (p, at, t) => t.its = readBe32(p, at, "SYNPROXY_ITS");
SYNPROXY_TABLE[CTA_SYNPROXY.TSOFF] = (p, at, t) => t.tsoff = readBe32(p, at, "SYNPROXY_TSOFF");

const HELP_TABLE: AttrHandler<Partial<CtHelp>>[] = [];
HELP_TABLE[CTA_HELP.NAME] = (p, _at, t) => t.name = readString(p);
HELP_TABLE[CTA_HELP.INFO] = (p, _at, t) => t.info = p.slice();

const SECCTX_TABLE: AttrHandler<{ name?: string }>[] = [];
SECCTX_TABLE[CTA_SECCTX.NAME] = (p, _at, t) => t.name = readString(p);

/** The top-level table: one handler per `enum ctattr_type` value we understand. */
const ENTRY_TABLE: AttrHandler<CtEntry>[] = [];
ENTRY_TABLE[CTA.TUPLE_ORIG] = (p, at, e) => e.orig = decodeTuple(p, at, "CTA_TUPLE_ORIG");
ENTRY_TABLE[CTA.TUPLE_REPLY] = (p, at, e) => e.reply = decodeTuple(p, at, "CTA_TUPLE_REPLY");
ENTRY_TABLE[CTA.TUPLE_MASTER] = (p, at, e) => e.master = decodeTuple(p, at, "CTA_TUPLE_MASTER");
ENTRY_TABLE[CTA.STATUS] = (p, at, e) => e.status = readBe32(p, at, "CTA_STATUS");
ENTRY_TABLE[CTA.STATUS_MASK] = (p, at, e) => e.statusMask = readBe32(p, at, "CTA_STATUS_MASK");
ENTRY_TABLE[CTA.PROTOINFO] = (p, at, e) => {
  const info = decodeNest(p, at, PROTOINFO_TABLE);
  if (info.tcp) e.tcp = info.tcp;
};
ENTRY_TABLE[CTA.HELP] = (p, at, e) => {
  const help = decodeNest(p, at, HELP_TABLE);
  e.help = { name: help.name ?? "", ...(help.info ? { info: help.info } : {}) };
};
ENTRY_TABLE[CTA.NAT_SRC] = (p, at, e) => e.natSrc = decodeNest(p, at, NAT_TABLE);
ENTRY_TABLE[CTA.NAT_DST] = (p, at, e) => e.natDst = decodeNest(p, at, NAT_TABLE);
ENTRY_TABLE[CTA.TIMEOUT] = (p, at, e) => e.timeout = readBe32(p, at, "CTA_TIMEOUT");
ENTRY_TABLE[CTA.MARK] = (p, at, e) => e.mark = readBe32(p, at, "CTA_MARK");
ENTRY_TABLE[CTA.MARK_MASK] = (p, at, e) => e.markMask = readBe32(p, at, "CTA_MARK_MASK");
ENTRY_TABLE[CTA.COUNTERS_ORIG] = (p, at, e) => e.countersOrig = decodeNest(p, at, COUNTERS_TABLE);
ENTRY_TABLE[CTA.COUNTERS_REPLY] = (p, at, e) => e.countersReply = decodeNest(p, at, COUNTERS_TABLE);
ENTRY_TABLE[CTA.USE] = (p, at, e) => e.use = readBe32(p, at, "CTA_USE");
ENTRY_TABLE[CTA.ID] = (p, at, e) => e.id = readBe32(p, at, "CTA_ID");
ENTRY_TABLE[CTA.SEQ_ADJ_ORIG] = (p, at, e) => e.seqAdjOrig = decodeSeqAdj(p, at);
ENTRY_TABLE[CTA.SEQ_ADJ_REPLY] = (p, at, e) => e.seqAdjReply = decodeSeqAdj(p, at);
ENTRY_TABLE[CTA.ZONE] = (p, at, e) => e.zone = readBe16(p, at, "CTA_ZONE");
ENTRY_TABLE[CTA.SECCTX] = (p, at, e) => {
  const name = decodeNest(p, at, SECCTX_TABLE).name;
  if (name !== undefined) e.secctx = name;
};
ENTRY_TABLE[CTA.TIMESTAMP] = (p, at, e) => e.timestamp = decodeNest(p, at, TIMESTAMP_TABLE);
ENTRY_TABLE[CTA.LABELS] = (p, _at, e) => e.labels = p.slice();
ENTRY_TABLE[CTA.LABELS_MASK] = (p, _at, e) => e.labelsMask = p.slice();
ENTRY_TABLE[CTA.SYNPROXY] = (p, at, e) => {
  const s = decodeNest(p, at, SYNPROXY_TABLE);
  e.synproxy = { isn: s.isn ?? 0, its: s.its ?? 0, tsoff: s.tsoff ?? 0 };
};
ENTRY_TABLE[CTA.TIMESTAMP_EVENT] = (p, at, e) =>
  e.timestampEvent = readBe64(p, at, "CTA_TIMESTAMP_EVENT");

/** Decode the attribute run `bytes[start, end)` of one ctnetlink message. */
export function decodeCtEntry(bytes: Uint8Array, start = 0, end = bytes.length): CtEntry {
  return decodeAttrs(bytes, start, end, ENTRY_TABLE, {} as Mutable<CtEntry>, 0);
}

// ---------------------------------------------------------------- encode

function writeTuple(w: AttrWriter, type: number, t: CtTuple): void {
  const nest = w.begin(type);
  const ip = w.begin(CTA_TUPLE.IP);
  const v6 = t.src.length === 16;
  w.put(v6 ? CTA_IP.V6_SRC : CTA_IP.V4_SRC, t.src);
  w.put(v6 ? CTA_IP.V6_DST : CTA_IP.V4_DST, t.dst);
  w.end(ip);
  const proto = w.begin(CTA_TUPLE.PROTO);
  w.u8(CTA_PROTO.NUM, t.proto);
  if (t.srcPort !== undefined) w.be16(CTA_PROTO.SRC_PORT, t.srcPort);
  if (t.dstPort !== undefined) w.be16(CTA_PROTO.DST_PORT, t.dstPort);
  const icmp6 = t.proto === IPPROTO_ICMPV6;
  if (t.proto === IPPROTO_ICMP || icmp6) {
    if (t.icmpId !== undefined) w.be16(icmp6 ? CTA_PROTO.ICMPV6_ID : CTA_PROTO.ICMP_ID, t.icmpId);
    if (t.icmpType !== undefined) {
      w.u8(icmp6 ? CTA_PROTO.ICMPV6_TYPE : CTA_PROTO.ICMP_TYPE, t.icmpType);
    }
    if (t.icmpCode !== undefined) {
      w.u8(icmp6 ? CTA_PROTO.ICMPV6_CODE : CTA_PROTO.ICMP_CODE, t.icmpCode);
    }
  }
  w.end(proto);
  if (t.zone !== undefined) w.be16(CTA_TUPLE.ZONE, t.zone);
  w.end(nest);
}

function writeCounters(w: AttrWriter, type: number, c: CtCounters): void {
  const nest = w.begin(type);
  if (c.packets !== undefined) w.be64(CTA_COUNTERS.PACKETS, c.packets);
  if (c.bytes !== undefined) w.be64(CTA_COUNTERS.BYTES, c.bytes);
  w.end(nest);
}

function writeTcp(w: AttrWriter, tcp: CtTcpInfo): void {
  const info = w.begin(CTA.PROTOINFO);
  const nest = w.begin(CTA_PROTOINFO.TCP);
  if (tcp.state !== undefined) w.u8(CTA_PROTOINFO_TCP.STATE, tcp.state);
  if (tcp.wscaleOriginal !== undefined) w.u8(CTA_PROTOINFO_TCP.WSCALE_ORIGINAL, tcp.wscaleOriginal);
  if (tcp.wscaleReply !== undefined) w.u8(CTA_PROTOINFO_TCP.WSCALE_REPLY, tcp.wscaleReply);
  const fo = tcp.flagsOriginal;
  if (fo) w.pair(CTA_PROTOINFO_TCP.FLAGS_ORIGINAL, fo.flags, fo.mask);
  const fr = tcp.flagsReply;
  if (fr) w.pair(CTA_PROTOINFO_TCP.FLAGS_REPLY, fr.flags, fr.mask);
  w.end(nest);
  w.end(info);
}

function writeNat(w: AttrWriter, type: number, nat: CtNat): void {
  const nest = w.begin(type);
  if (nat.minIp) w.put(nat.minIp.length === 16 ? CTA_NAT.V6_MINIP : CTA_NAT.V4_MINIP, nat.minIp);
  if (nat.maxIp) w.put(nat.maxIp.length === 16 ? CTA_NAT.V6_MAXIP : CTA_NAT.V4_MAXIP, nat.maxIp);
  if (nat.minPort !== undefined || nat.maxPort !== undefined) {
    const proto = w.begin(CTA_NAT.PROTO);
    if (nat.minPort !== undefined) w.be16(CTA_PROTONAT.PORT_MIN, nat.minPort);
    if (nat.maxPort !== undefined) w.be16(CTA_PROTONAT.PORT_MAX, nat.maxPort);
    w.end(proto);
  }
  w.end(nest);
}

function writeSeqAdj(w: AttrWriter, type: number, s: CtSeqAdj): void {
  const nest = w.begin(type);
  w.be32(CTA_SEQADJ.CORRECTION_POS, s.correctionPos);
  w.be32(CTA_SEQADJ.OFFSET_BEFORE, s.offsetBefore);
  w.be32(CTA_SEQADJ.OFFSET_AFTER, s.offsetAfter);
  w.end(nest);
}

/** Append the entry's attributes to `w` in the canonical order of the file header. */
export function encodeCtEntry(w: AttrWriter, e: CtEntry): AttrWriter {
  if (e.orig) writeTuple(w, CTA.TUPLE_ORIG, e.orig);
  if (e.reply) writeTuple(w, CTA.TUPLE_REPLY, e.reply);
  if (e.master) writeTuple(w, CTA.TUPLE_MASTER, e.master);
  if (e.zone !== undefined) w.be16(CTA.ZONE, e.zone);
  if (e.id !== undefined) w.be32(CTA.ID, e.id);
  if (e.status !== undefined) w.be32(CTA.STATUS, e.status);
  if (e.statusMask !== undefined) w.be32(CTA.STATUS_MASK, e.statusMask);
  if (e.timeout !== undefined) w.be32(CTA.TIMEOUT, e.timeout);
  if (e.countersOrig) writeCounters(w, CTA.COUNTERS_ORIG, e.countersOrig);
  if (e.countersReply) writeCounters(w, CTA.COUNTERS_REPLY, e.countersReply);
  if (e.timestamp) {
    const nest = w.begin(CTA.TIMESTAMP);
    if (e.timestamp.start !== undefined) w.be64(CTA_TIMESTAMP.START, e.timestamp.start);
    if (e.timestamp.stop !== undefined) w.be64(CTA_TIMESTAMP.STOP, e.timestamp.stop);
    w.end(nest);
  }
  if (e.use !== undefined) w.be32(CTA.USE, e.use);
  if (e.tcp) writeTcp(w, e.tcp);
  if (e.help) {
    const nest = w.begin(CTA.HELP);
    w.string(CTA_HELP.NAME, e.help.name);
    if (e.help.info) w.put(CTA_HELP.INFO, e.help.info);
    w.end(nest);
  }
  if (e.natSrc) writeNat(w, CTA.NAT_SRC, e.natSrc);
  if (e.natDst) writeNat(w, CTA.NAT_DST, e.natDst);
  if (e.seqAdjOrig) writeSeqAdj(w, CTA.SEQ_ADJ_ORIG, e.seqAdjOrig);
  if (e.seqAdjReply) writeSeqAdj(w, CTA.SEQ_ADJ_REPLY, e.seqAdjReply);
  if (e.synproxy) {
    const nest = w.begin(CTA.SYNPROXY);
    w.be32(CTA_SYNPROXY.ISN, e.synproxy.isn);
    w.be32(CTA_SYNPROXY.ITS, e.synproxy.its);
    w.be32(CTA_SYNPROXY.TSOFF, e.synproxy.tsoff);
    w.end(nest);
  }
  if (e.mark !== undefined) w.be32(CTA.MARK, e.mark);
  if (e.markMask !== undefined) w.be32(CTA.MARK_MASK, e.markMask);
  if (e.labels) w.put(CTA.LABELS, e.labels);
  if (e.labelsMask) w.put(CTA.LABELS_MASK, e.labelsMask);
  if (e.secctx !== undefined) {
    const nest = w.begin(CTA.SECCTX);
    w.string(CTA_SECCTX.NAME, e.secctx);
    w.end(nest);
  }
  if (e.timestampEvent !== undefined) w.be64(CTA.TIMESTAMP_EVENT, e.timestampEvent);
  return w;
}
