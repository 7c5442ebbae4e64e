/**
 * The hot-path decoder of ctnetlink entry messages: events, dump parts and
 * GET replies, tens of thousands a second on a busy firewall.
 *
 *   datagram  | nlmsghdr 16 | nfgenmsg 4 | CTA_TUPLE_ORIG{IP{SRC,DST},PROTO{NUM,ports}} |
 *             | CTA_TUPLE_REPLY{…} | CTA_ID | CTA_STATUS | CTA_TIMEOUT | CTA_PROTOINFO{TCP{…}} |
 *             | CTA_MARK | CTA_SYNPROXY | … | next nlmsghdr (NLMSG_ALIGN) …
 *
 * The table-driven decoder (ct_entry.ts) makes a view and a handler call
 * per attribute — about 11 µs for a 232-byte event. This one walks the same
 * bytes with one DataView per datagram and plain loops over the attributes
 * the kernel puts in entry messages (spec §2.9): both tuples, status,
 * timeout, mark, zone, id, use, TCP protoinfo, synproxy, timestamps and
 * counters. It produces the very `CtEntry` the table decoder would; anything
 * else — an attribute it does not know (helper, NAT, labels, seq-adjust,
 * master, secctx …), a length it did not expect, a repeated attribute, or a
 * malformed message — is handed to the table decoder, which decodes it or
 * throws the one DecodeError with its reason and offset (DESIGN rule 4). So
 * the fast path changes cost, never results (tests/netlink/ctnetlink_fast_test.ts
 * compares the two on vectors and mutations).
 */
import {
  CTA,
  CTA_COUNTERS,
  CTA_IP,
  CTA_PROTO,
  CTA_PROTOINFO,
  CTA_PROTOINFO_TCP,
  CTA_SYNPROXY,
  CTA_TIMESTAMP,
  CTA_TUPLE,
  NFNL_SUBSYS_CTNETLINK,
} from "./ct_constants.ts";
import type { Mutable } from "./ct_attr.ts";
import type {
  CtCounters,
  CtEntry,
  CtMessage,
  CtTcpInfo,
  CtTimestamp,
  CtTuple,
} from "./ct_types.ts";
import { decodeCtNlMessage } from "./ctnetlink.ts";
import { type NlMessage, NLMSG_HDRLEN } from "./nlmsg.ts";
import { HOST_LITTLE_ENDIAN, NLA_TYPE_MASK } from "./nlattr.ts";

const LE = HOST_LITTLE_ENDIAN;
const ATTRS = NLMSG_HDRLEN + 4;

/** Thrown inside the walk when the fast path declines; never escapes this module. */
class Decline {
  static readonly instance = new Decline();
}

function decline(): never {
  throw Decline.instance;
}

/** End (unaligned) of the attribute at `at`; declines on a length the table decoder rejects. */
function attrEnd(view: DataView, at: number, end: number): number {
  if (end - at < 4) decline();
  const length = view.getUint16(at, LE);
  if (length < 4 || at + length > end) decline();
  return at + length;
}

/** A view, not a copy (a new buffer per address cost more than the rest of the decode). */
function address(bytes: Uint8Array, at: number, length: number, size: number): Uint8Array {
  if (length !== size) decline();
  return bytes.subarray(at, at + size);
}

function tuple(bytes: Uint8Array, view: DataView, start: number, end: number): CtTuple {
  let src: Uint8Array | undefined;
  let dst: Uint8Array | undefined;
  let proto: number | undefined;
  let srcPort: number | undefined;
  let dstPort: number | undefined;
  let icmpId: number | undefined;
  let icmpType: number | undefined;
  let icmpCode: number | undefined;
  let zone: number | undefined;
  let seen = 0;
  for (let at = start; at < end;) {
    const next = attrEnd(view, at, end);
    const type = view.getUint16(at + 2, LE) & NLA_TYPE_MASK;
    const p = at + 4;
    const n = next - p;
    if (type <= 3 && type > 0) {
      if (seen & (1 << type)) decline(); // a repeated nest replaces, not merges: leave it to the table decoder
      seen |= 1 << type;
    }
    if (type === CTA_TUPLE.IP) {
      for (let a = p; a < next;) {
        const an = attrEnd(view, a, next);
        const t = view.getUint16(a + 2, LE) & NLA_TYPE_MASK;
        const len = an - a - 4;
        if (t === CTA_IP.V4_SRC) src = address(bytes, a + 4, len, 4);
        else if (t === CTA_IP.V4_DST) dst = address(bytes, a + 4, len, 4);
        else if (t === CTA_IP.V6_SRC) src = address(bytes, a + 4, len, 16);
        else if (t === CTA_IP.V6_DST) dst = address(bytes, a + 4, len, 16);
        a = (an + 3) & ~3;
      }
    } else if (type === CTA_TUPLE.PROTO) {
      for (let a = p; a < next;) {
        const an = attrEnd(view, a, next);
        const t = view.getUint16(a + 2, LE) & NLA_TYPE_MASK;
        const len = an - a - 4;
        const v = a + 4;
        if (t === CTA_PROTO.NUM) {
          if (len < 1) decline();
          proto = bytes[v];
        } else if (t === CTA_PROTO.SRC_PORT) {
          if (len < 2) decline();
          srcPort = view.getUint16(v);
        } else if (t === CTA_PROTO.DST_PORT) {
          if (len < 2) decline();
          dstPort = view.getUint16(v);
        } else if (t === CTA_PROTO.ICMP_ID || t === CTA_PROTO.ICMPV6_ID) {
          if (len < 2) decline();
          icmpId = view.getUint16(v);
        } else if (t === CTA_PROTO.ICMP_TYPE || t === CTA_PROTO.ICMPV6_TYPE) {
          if (len < 1) decline();
          icmpType = bytes[v];
        } else if (t === CTA_PROTO.ICMP_CODE || t === CTA_PROTO.ICMPV6_CODE) {
          if (len < 1) decline();
          icmpCode = bytes[v];
        }
        a = (an + 3) & ~3;
      }
    } else if (type === CTA_TUPLE.ZONE) {
      if (n < 2) decline();
      zone = view.getUint16(p);
    }
    at = (next + 3) & ~3;
  }
  if (!src || !dst || proto === undefined) decline();
  const out: Mutable<CtTuple> = { src, dst, proto };
  if (srcPort !== undefined) out.srcPort = srcPort;
  if (dstPort !== undefined) out.dstPort = dstPort;
  if (icmpId !== undefined) out.icmpId = icmpId;
  if (icmpType !== undefined) out.icmpType = icmpType;
  if (icmpCode !== undefined) out.icmpCode = icmpCode;
  if (zone !== undefined) out.zone = zone;
  return out;
}

function protoinfo(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
): CtTcpInfo | undefined {
  let tcp: Mutable<CtTcpInfo> | undefined;
  for (let at = start; at < end;) {
    const next = attrEnd(view, at, end);
    const type = view.getUint16(at + 2, LE) & NLA_TYPE_MASK;
    if (type === CTA_PROTOINFO.TCP) {
      if (tcp) decline();
      tcp = {};
      for (let a = at + 4; a < next;) {
        const an = attrEnd(view, a, next);
        const t = view.getUint16(a + 2, LE) & NLA_TYPE_MASK;
        const len = an - a - 4;
        const v = a + 4;
        if (t >= CTA_PROTOINFO_TCP.STATE && t <= CTA_PROTOINFO_TCP.FLAGS_REPLY && len < 1) {
          decline();
        }
        if (t === CTA_PROTOINFO_TCP.STATE) tcp.state = bytes[v];
        else if (t === CTA_PROTOINFO_TCP.WSCALE_ORIGINAL) tcp.wscaleOriginal = bytes[v];
        else if (t === CTA_PROTOINFO_TCP.WSCALE_REPLY) tcp.wscaleReply = bytes[v];
        else if (t === CTA_PROTOINFO_TCP.FLAGS_ORIGINAL) {
          tcp.flagsOriginal = { flags: bytes[v], mask: len >= 2 ? bytes[v + 1] : 0 };
        } else if (t === CTA_PROTOINFO_TCP.FLAGS_REPLY) {
          tcp.flagsReply = { flags: bytes[v], mask: len >= 2 ? bytes[v + 1] : 0 };
        }
        a = (an + 3) & ~3;
      }
    }
    at = (next + 3) & ~3;
  }
  return tcp;
}

/** The u32 nest members the synproxy, timestamp and counter nests are made of. */
function be32s(view: DataView, start: number, end: number, out: number[]): void {
  for (let at = start; at < end;) {
    const next = attrEnd(view, at, end);
    const type = view.getUint16(at + 2, LE) & NLA_TYPE_MASK;
    if (type >= 1 && type < out.length) {
      if (next - at - 4 < 4) decline();
      out[type] = view.getUint32(at + 4);
    }
    at = (next + 3) & ~3;
  }
}

/** The timestamp nest: START and STOP (u64); PAD and unknown members are skipped. */
function timestamps(view: DataView, start: number, end: number): CtTimestamp {
  const out: Mutable<CtTimestamp> = {};
  for (let at = start; at < end;) {
    const next = attrEnd(view, at, end);
    const type = view.getUint16(at + 2, LE) & NLA_TYPE_MASK;
    if (type === CTA_TIMESTAMP.START || type === CTA_TIMESTAMP.STOP) {
      if (next - at - 4 < 8) decline();
      if (type === CTA_TIMESTAMP.START) out.start = view.getBigUint64(at + 4);
      else out.stop = view.getBigUint64(at + 4);
    }
    at = (next + 3) & ~3;
  }
  return out;
}

function counters(view: DataView, start: number, end: number): CtCounters {
  const v: bigint[] = [];
  for (let at = start; at < end;) {
    const next = attrEnd(view, at, end);
    const type = view.getUint16(at + 2, LE) & NLA_TYPE_MASK;
    if (type === CTA_COUNTERS.PACKETS || type === CTA_COUNTERS.BYTES) {
      if (next - at - 4 < 8) decline();
      v[type] = view.getBigUint64(at + 4);
    } else if (type === CTA_COUNTERS.PACKETS32 || type === CTA_COUNTERS.BYTES32) {
      decline();
    }
    at = (next + 3) & ~3;
  }
  const out: Mutable<CtCounters> = {};
  if (v[CTA_COUNTERS.PACKETS] !== undefined) out.packets = v[CTA_COUNTERS.PACKETS];
  if (v[CTA_COUNTERS.BYTES] !== undefined) out.bytes = v[CTA_COUNTERS.BYTES];
  return out;
}

/** Top-level attributes this decoder handles (bit per CTA_* number). */
const HANDLED = (1 << CTA.TUPLE_ORIG) | (1 << CTA.TUPLE_REPLY) | (1 << CTA.STATUS) |
  (1 << CTA.PROTOINFO) | (1 << CTA.TIMEOUT) | (1 << CTA.MARK) | (1 << CTA.COUNTERS_ORIG) |
  (1 << CTA.COUNTERS_REPLY) | (1 << CTA.USE) | (1 << CTA.ID) | (1 << CTA.ZONE) |
  (1 << CTA.TIMESTAMP) | (1 << CTA.SYNPROXY) | (1 << CTA.TIMESTAMP_EVENT);

/** Unknown numbers the table decoder ignores too (no handler there either). */
function ignoredByTable(type: number): boolean {
  return type === 0 || type === CTA.SECMARK || type === CTA.FILTER || type > CTA.TIMESTAMP_EVENT;
}

function entry(bytes: Uint8Array, view: DataView, start: number, end: number): CtEntry {
  const e: Mutable<CtEntry> = {};
  let seen = 0;
  for (let at = start; at < end;) {
    const next = attrEnd(view, at, end);
    const type = view.getUint16(at + 2, LE) & NLA_TYPE_MASK;
    const p = at + 4;
    const n = next - p;
    if ((HANDLED & (1 << type)) === 0 || type > 31) {
      if (!ignoredByTable(type)) decline();
    } else {
      if (seen & (1 << type)) decline();
      seen |= 1 << type;
      switch (type) {
        case CTA.TUPLE_ORIG:
          e.orig = tuple(bytes, view, p, next);
          break;
        case CTA.TUPLE_REPLY:
          e.reply = tuple(bytes, view, p, next);
          break;
        case CTA.STATUS:
          if (n < 4) decline();
          e.status = view.getUint32(p);
          break;
        case CTA.TIMEOUT:
          if (n < 4) decline();
          e.timeout = view.getUint32(p);
          break;
        case CTA.MARK:
          if (n < 4) decline();
          e.mark = view.getUint32(p);
          break;
        case CTA.USE:
          if (n < 4) decline();
          e.use = view.getUint32(p);
          break;
        case CTA.ID:
          if (n < 4) decline();
          e.id = view.getUint32(p);
          break;
        case CTA.ZONE:
          if (n < 2) decline();
          e.zone = view.getUint16(p);
          break;
        case CTA.PROTOINFO: {
          const tcp = protoinfo(bytes, view, p, next);
          if (tcp) e.tcp = tcp;
          break;
        }
        case CTA.SYNPROXY: {
          const v = [0, 0, 0, 0];
          be32s(view, p, next, v);
          e.synproxy = {
            isn: v[CTA_SYNPROXY.ISN],
            its: v[CTA_SYNPROXY.ITS],
            tsoff: v[CTA_SYNPROXY.TSOFF],
          };
          break;
        }
        case CTA.TIMESTAMP:
          e.timestamp = timestamps(view, p, next);
          break;
        case CTA.COUNTERS_ORIG:
          e.countersOrig = counters(view, p, next);
          break;
        case CTA.COUNTERS_REPLY:
          e.countersReply = counters(view, p, next);
          break;
        case CTA.TIMESTAMP_EVENT:
          if (n < 8) decline();
          e.timestampEvent = view.getBigUint64(p);
          break;
      }
    }
    at = (next + 3) & ~3;
  }
  return e;
}

/**
 * Decodes the ctnetlink message found by `splitNlMessages` in `datagram`
 * (its `view` may be shared by all messages of the datagram). Same result
 * and same errors as `decodeCtNlMessage`, except that addresses are views
 * of `datagram`: its bytes must not be reused while the entry is in use
 * (NetlinkSocket.receiveShared never reuses them).
 */
export function decodeCtNlMessageFast(
  message: NlMessage,
  datagram: Uint8Array,
  view: DataView = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength),
): CtMessage {
  const { header } = message;
  const start = message.offset;
  const end = start + header.length;
  if (
    header.type >> 8 !== NFNL_SUBSYS_CTNETLINK || header.length < ATTRS || end > datagram.length
  ) {
    return decodeCtNlMessage(message);
  }
  try {
    const e = entry(datagram, view, start + ATTRS, end);
    return {
      type: header.type,
      flags: header.flags,
      seq: header.seq,
      pid: header.pid,
      family: datagram[start + 16],
      version: datagram[start + 17],
      resId: view.getUint16(start + 18),
      entry: e,
    };
  } catch (error) {
    if (error !== Decline.instance) throw error;
    return decodeCtNlMessage(message);
  }
}

/**
 * The one ctnetlink message of a datagram that holds exactly one (every
 * event does, §2.9), decoded without splitting the datagram first.
 * Undefined when the datagram holds anything else, or anything the fast
 * path declines: the caller then splits it and decodes as usual, so the
 * results and errors stay the table decoder's.
 */
export function decodeCtSingleMessage(datagram: Uint8Array, view: DataView): CtMessage | undefined {
  if (datagram.length < ATTRS) return undefined;
  const length = view.getUint32(0, LE);
  if (length < ATTRS || length > datagram.length || ((length + 3) & ~3) < datagram.length) {
    return undefined;
  }
  const type = view.getUint16(4, LE);
  if (type >> 8 !== NFNL_SUBSYS_CTNETLINK) return undefined;
  let e: CtEntry;
  try {
    e = entry(datagram, view, ATTRS, length);
  } catch (error) {
    if (error !== Decline.instance) throw error;
    return undefined;
  }
  return {
    type,
    flags: view.getUint16(6, LE),
    seq: view.getUint32(8, LE),
    pid: view.getUint32(12, LE),
    family: datagram[16],
    version: datagram[17],
    resId: view.getUint16(18),
    entry: e,
  };
}
