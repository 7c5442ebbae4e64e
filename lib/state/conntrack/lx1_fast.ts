/**
 * The receiver's hot path of LX1 (spec §4.4 rule 14): a peer's State → the
 * create request for the kernel, and → the key of its kernel entry, with
 * the addresses parsed once into scratch bytes and the request written
 * straight into the caller's datagram buffer — no CtEntry, tuple or
 * per-address buffer on the way. A bulk update applies every state of the
 * peer through here.
 *
 *   nlmsghdr | nfgenmsg | TUPLE_ORIG{IP{SRC,DST},PROTO{NUM,ports|icmp}} | TUPLE_REPLY{mirrored} |
 *   [ZONE] | STATUS | TIMEOUT | [PROTOINFO{TCP{STATE,WSCALE×2,FLAGS×2}}] | MARK
 *
 * It covers what nearly every state is: no NAT, no helper. Those, and text
 * that does not parse, go the general way (`stateToCt` + `ctCreateRequest`,
 * which also gives the error), so the bytes are always the general path's
 * (tests/state/conntrack/lx1_fast_test.ts compares the two).
 */
import { writePfAddr } from "../addr.ts";
import {
  CT_MSG_NEW,
  CTA,
  CTA_IP,
  CTA_PROTO,
  CTA_PROTOINFO,
  CTA_PROTOINFO_TCP,
  CTA_TUPLE,
  IP_CT_TCP_FLAG,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPS,
  TCP_CONNTRACK,
} from "../../netlink/ct_constants.ts";
import { ctFlowKey } from "../../netlink/ctnetlink_key.ts";
import { isInet6, PF_IN, type State } from "../types.ts";
import {
  LX1_TCP_FLAG_MASK,
  LX_FLAG_DOUBLE_NAT,
  stateCtKey,
  stateTimeout,
  type ToCtOptions,
} from "./mapping.ts";
import { pfTcpToCt } from "./tcp_states.ts";

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const NESTED = 0x8000;
const AF_INET_LINUX = 2;
const AF_INET6_LINUX = 10;
const WSCALE_NEGOTIATED = 0x80;

/** Parsed endpoints: original src, dst, reply src, dst at 0, 16, 32, 48. */
const addresses = new Uint8Array(64);
let v6 = false;
let proto = 0;
let icmp = false;
let oSport = 0;
let oDport = 0;
let rSport = 0;
let rDport = 0;
let oType = 0;
let oCode = 0;
let rType = 0;
let rCode = 0;

function parseAddress(text: string, at: number): boolean {
  return text.includes(":") === v6 && writePfAddr(text, addresses, at);
}

/** Fills the scratch from `state` as stateTuples() reads it; false when the text does not parse. */
function parse(state: State): boolean {
  v6 = isInet6(state.af);
  proto = state.proto;
  icmp = proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;
  const { lan, gwy, ext } = state;
  const sPad = state.src.pad;
  const dPad = state.dst.pad;
  oType = sPad?.[2] ?? 0;
  oCode = sPad?.[3] ?? 0;
  rType = dPad?.[2] ?? 0;
  rCode = dPad?.[3] ?? 0;
  if (state.direction === PF_IN) {
    oSport = ext.port;
    oDport = gwy.port;
    rSport = lan.port;
    rDport = ext.port;
    return parseAddress(ext.addr, 0) && parseAddress(gwy.addr, 16) &&
      parseAddress(lan.addr, 32) && parseAddress(ext.addr, 48);
  }
  const double = (state.natRule & LX_FLAG_DOUBLE_NAT) !== 0;
  oSport = lan.port;
  oDport = ext.port;
  rSport = double ? ext.pad?.[0] ?? 0 : ext.port;
  rDport = gwy.port;
  return parseAddress(lan.addr, 0) && parseAddress(ext.addr, 16) &&
    parseAddress(double ? state.rtAddr : ext.addr, 32) && parseAddress(gwy.addr, 48);
}

function samePoint(a: number, aPort: number, b: number, bPort: number): boolean {
  if (aPort !== bPort) return false;
  const size = v6 ? 16 : 4;
  for (let i = 0; i < size; i++) if (addresses[a + i] !== addresses[b + i]) return false;
  return true;
}

function word(at: number): number {
  return (addresses[at] << 8) | addresses[at + 1];
}

/**
 * The compact key (ctnetlink_key.ts) of the kernel entry a peer's State
 * addresses: `ctFlowKey(stateCtKey(state).orig, zone)`, without the tuple.
 */
export function stateFlowKey(state: State): string {
  if (!parse(state)) {
    const { orig, zone } = stateCtKey(state); // throws the RangeError naming the address
    return ctFlowKey(orig, zone);
  }
  const zone = state.natRule >>> 16;
  if (!v6 && !icmp) {
    return String.fromCharCode(
      zone,
      proto | (0x03 << 8),
      word(0),
      word(2),
      word(16),
      word(18),
      oSport,
      oDport,
    );
  }
  const units = [zone, proto | ((icmp ? 0x1c : 0x03) | (v6 ? 0x20 : 0)) << 8];
  const size = v6 ? 16 : 4;
  for (let i = 0; i < size; i += 2) units.push(word(i));
  for (let i = 0; i < size; i += 2) units.push(word(16 + i));
  if (icmp) units.push(oSport, oType, oCode);
  else units.push(oSport, oDport);
  return String.fromCharCode(...units);
}

// ---------------------------------------------------------------- writer

let out: Uint8Array = new Uint8Array(0);
let view: DataView = new DataView(out.buffer);
let at = 0;

function header(type: number, length: number): void {
  view.setUint16(at, length, LE);
  view.setUint16(at + 2, type, LE);
}

function u8(type: number, value: number): void {
  header(type, 5);
  view.setUint32(at + 4, 0);
  out[at + 4] = value;
  at += 8;
}

function be16(type: number, value: number): void {
  header(type, 6);
  view.setUint32(at + 4, 0);
  view.setUint16(at + 4, value);
  at += 8;
}

function be32(type: number, value: number): void {
  header(type, 8);
  view.setUint32(at + 4, value >>> 0);
  at += 8;
}

function pair(type: number, first: number, second: number): void {
  header(type, 6);
  view.setUint32(at + 4, 0);
  out[at + 4] = first;
  out[at + 5] = second;
  at += 8;
}

function begin(type: number): number {
  const start = at;
  view.setUint16(at + 2, type | NESTED, LE);
  at += 4;
  return start;
}

function end(start: number): void {
  view.setUint16(start, at - start, LE);
}

function tuple(
  type: number,
  src: number,
  dst: number,
  sport: number,
  dport: number,
  t: number,
  c: number,
): void {
  const nest = begin(type);
  const ip = begin(CTA_TUPLE.IP);
  const size = v6 ? 16 : 4;
  header(v6 ? CTA_IP.V6_SRC : CTA_IP.V4_SRC, 4 + size);
  for (let i = 0; i < size; i++) out[at + 4 + i] = addresses[src + i];
  at += 4 + size;
  header(v6 ? CTA_IP.V6_DST : CTA_IP.V4_DST, 4 + size);
  for (let i = 0; i < size; i++) out[at + 4 + i] = addresses[dst + i];
  at += 4 + size;
  end(ip);
  const p = begin(CTA_TUPLE.PROTO);
  u8(CTA_PROTO.NUM, proto);
  if (icmp) {
    const six = proto === IPPROTO_ICMPV6;
    be16(six ? CTA_PROTO.ICMPV6_ID : CTA_PROTO.ICMP_ID, sport);
    u8(six ? CTA_PROTO.ICMPV6_TYPE : CTA_PROTO.ICMP_TYPE, t);
    u8(six ? CTA_PROTO.ICMPV6_CODE : CTA_PROTO.ICMP_CODE, c);
  } else {
    be16(CTA_PROTO.SRC_PORT, sport);
    be16(CTA_PROTO.DST_PORT, dport);
  }
  end(p);
  end(nest);
}

function tcpFlags(received: number, wscale: number, liberal: boolean): number {
  let f = received & LX1_TCP_FLAG_MASK;
  if (wscale & WSCALE_NEGOTIATED) f |= IP_CT_TCP_FLAG.WINDOW_SCALE;
  return liberal ? f | IP_CT_TCP_FLAG.BE_LIBERAL : f & ~IP_CT_TCP_FLAG.BE_LIBERAL;
}

/** Room one request may need (IPv6 TCP is about 240 bytes). */
export const FAST_CREATE_MAX_BYTES = 512;

/**
 * Writes the create request for `state` at `offset` of `buffer` (which must
 * have FAST_CREATE_MAX_BYTES of room) and returns where it ends, or -1 when
 * the state needs the general path (NAT, helper, unparsable text). Byte for
 * byte `ctCreateRequest(stateToCt(state, options), seq, flags)`.
 */
export function encodeStateCreate(
  state: State,
  options: ToCtOptions,
  buffer: Uint8Array,
  offset: number,
  seq: number,
  flags: number,
): number {
  if ((state.ifname && (options.helpers ?? true)) || !parse(state)) return -1;
  // NAT when the reply is not the mirrored original (stateToCt's natSrc/natDst); an ICMP
  // tuple's "ports" are its id at both ends.
  if (!samePoint(48, icmp ? rSport : rDport, 0, oSport)) return -1;
  if (!samePoint(32, rSport, 16, icmp ? oSport : oDport)) return -1;
  if (buffer !== out) {
    out = buffer;
    view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  at = offset + 20;
  tuple(CTA.TUPLE_ORIG, 0, 16, oSport, oDport, oType, oCode);
  // Mirrored: ends swapped; ICMP keeps the original id and takes the reply's type and code.
  tuple(CTA.TUPLE_REPLY, 16, 0, icmp ? oSport : oDport, oSport, rType, rCode);
  const zone = state.natRule >>> 16;
  if (zone) be16(CTA.ZONE, zone);
  const status = (state.anchor & (IPS.SEEN_REPLY | IPS.ASSURED)) | IPS.CONFIRMED;
  be32(CTA.STATUS, status);
  be32(
    CTA.TIMEOUT,
    stateTimeout(state) + Math.max(0, Math.round(options.timeoutGraceSeconds ?? 0)),
  );
  if (proto === IPPROTO_TCP) {
    const liberal = options.liberal ?? true;
    const exact = state.src.pad?.[0] ?? 0;
    const ctState = exact > 0 && exact <= TCP_CONNTRACK.SYN_SENT2
      ? exact
      : pfTcpToCt(state.src.state, state.dst.state);
    const so = state.src.wscale;
    const sr = state.dst.wscale;
    const info = begin(CTA.PROTOINFO);
    const tcp = begin(CTA_PROTOINFO.TCP);
    u8(CTA_PROTOINFO_TCP.STATE, ctState);
    u8(CTA_PROTOINFO_TCP.WSCALE_ORIGINAL, so & 0x0f);
    u8(CTA_PROTOINFO_TCP.WSCALE_REPLY, sr & 0x0f);
    pair(
      CTA_PROTOINFO_TCP.FLAGS_ORIGINAL,
      tcpFlags(state.src.pad?.[1] ?? 0, so, liberal),
      LX1_TCP_FLAG_MASK,
    );
    pair(
      CTA_PROTOINFO_TCP.FLAGS_REPLY,
      tcpFlags(state.dst.pad?.[1] ?? 0, sr, liberal),
      LX1_TCP_FLAG_MASK,
    );
    end(tcp);
    end(info);
  }
  be32(CTA.MARK, state.rule >>> 0);
  // nlmsghdr + nfgenmsg
  view.setUint32(offset, at - offset, LE);
  view.setUint16(offset + 4, CT_MSG_NEW, LE);
  view.setUint16(offset + 6, flags, LE);
  view.setUint32(offset + 8, seq >>> 0, LE);
  view.setUint32(offset + 12, 0, LE);
  out[offset + 16] = v6 ? AF_INET6_LINUX : AF_INET_LINUX;
  out[offset + 17] = 0;
  view.setUint16(offset + 18, 0);
  return at;
}
