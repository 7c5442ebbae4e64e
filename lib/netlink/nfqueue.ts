/**
 * nfnetlink_queue messages (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_QUEUE = 3):
 * the kernel hands packets that hit an NFQUEUE rule to a user-space port,
 * which answers each one with a verdict naming its packet id.
 *
 *    0               4       6       8               12              16  17  18      20
 *   +---------------+-------+-------+---------------+---------------+---+---+-------+------
 *   |  nlmsg_len    | type  | flags |  nlmsg_seq    |  nlmsg_pid    |fam|ver|res_id | attrs
 *   +---------------+-------+-------+---------------+---------------+---+---+-------+------
 *   struct nlmsghdr (host order)                                     struct nfgenmsg
 *   type = 0x03 << 8 | msg (0x0300 PACKET, 0x0301 VERDICT, 0x0302 CONFIG)
 *   res_id = the queue number (big-endian)
 *
 * Attribute payloads are big-endian (the header's nla_len/nla_type are host order):
 *
 *   NFQA_PACKET_HDR   struct nfqnl_msg_packet_hdr, 7 bytes (packed):
 *                       0 packet_id (be32) | 4 hw_protocol (be16) | 6 hook (u8)
 *   NFQA_VERDICT_HDR  struct nfqnl_msg_verdict_hdr, 8 bytes:
 *                       0 verdict (be32) | 4 id (be32)
 *   NFQA_TIMESTAMP    struct nfqnl_msg_packet_timestamp, 16 bytes: sec (be64) | usec (be64)
 *   NFQA_CFG_CMD      struct nfqnl_msg_config_cmd, 4 bytes:
 *                       0 command (u8) | 1 pad | 2 pf (be16)
 *   NFQA_CFG_PARAMS   struct nfqnl_msg_config_params, 5 bytes (packed):
 *                       0 copy_range (be32) | 4 copy_mode (u8)
 *
 * Pure: used by the lab's delay queue (tests/lab/fixtures/nfqueue_delay.ts).
 */
import { DecodeError } from "../bytes/errors.ts";
import {
  type AttrContext,
  type AttrKind,
  decodeAttributes,
  encodeAttributes,
  field,
  nla,
} from "./nlattr.ts";
import { bytes, u32be } from "./nlattr_kinds.ts";
import {
  decodeNfGenMsg,
  encodeNfGenMsg,
  encodeNlMsg,
  NFGENMSG_LEN,
  NFNETLINK_V0,
  NLM_F_ACK,
  NLM_F_REQUEST,
  type NlMessage,
} from "./nlmsg.ts";
import { HOST_LITTLE_ENDIAN } from "./nlattr.ts";

export const NFNL_SUBSYS_QUEUE = 3;

export const NFQNL_MSG_PACKET = 0;
export const NFQNL_MSG_VERDICT = 1;
export const NFQNL_MSG_CONFIG = 2;
export const NFQNL_MSG_VERDICT_BATCH = 3;

/** Full nlmsg_type values. */
export const NFQ_MSG_PACKET = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
export const NFQ_MSG_VERDICT = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT;
export const NFQ_MSG_CONFIG = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG;

/** enum nfqnl_attr_type (packet and verdict messages). */
export const NFQA_PACKET_HDR = 1;
export const NFQA_VERDICT_HDR = 2;
export const NFQA_MARK = 3;
export const NFQA_TIMESTAMP = 4;
export const NFQA_IFINDEX_INDEV = 5;
export const NFQA_IFINDEX_OUTDEV = 6;
export const NFQA_IFINDEX_PHYSINDEV = 7;
export const NFQA_IFINDEX_PHYSOUTDEV = 8;
export const NFQA_HWADDR = 9;
export const NFQA_PAYLOAD = 10;
export const NFQA_CT = 11;
export const NFQA_CT_INFO = 12;
export const NFQA_CAP_LEN = 13;
export const NFQA_SKB_INFO = 14;

/** enum nfqnl_attr_config (config messages). */
export const NFQA_CFG_CMD = 1;
export const NFQA_CFG_PARAMS = 2;
export const NFQA_CFG_QUEUE_MAXLEN = 3;
export const NFQA_CFG_MASK = 4;
export const NFQA_CFG_FLAGS = 5;

/** NFQA_CFG_FLAGS bits. */
export const NFQA_CFG_F_FAIL_OPEN = 0x1;
export const NFQA_CFG_F_CONNTRACK = 0x2;
export const NFQA_CFG_F_GSO = 0x4;

/** enum nfqnl_msg_config_cmds. PF_BIND/PF_UNBIND are accepted and ignored by kernels ≥ 3.8. */
export const NFQNL_CFG_CMD_NONE = 0;
export const NFQNL_CFG_CMD_BIND = 1;
export const NFQNL_CFG_CMD_UNBIND = 2;
export const NFQNL_CFG_CMD_PF_BIND = 3;
export const NFQNL_CFG_CMD_PF_UNBIND = 4;

/** enum nfqnl_config_mode. */
export const NFQNL_COPY_NONE = 0;
export const NFQNL_COPY_META = 1;
export const NFQNL_COPY_PACKET = 2;

/** Netfilter verdicts (NF_*). */
export const NF_DROP = 0;
export const NF_ACCEPT = 1;
export const NF_STOLEN = 2;
export const NF_QUEUE = 3;
export const NF_REPEAT = 4;

/** Netfilter hooks as NFQA_PACKET_HDR names them (IPv4/IPv6 numbering). */
export const NF_INET_PRE_ROUTING = 0;
export const NF_INET_LOCAL_IN = 1;
export const NF_INET_FORWARD = 2;
export const NF_INET_LOCAL_OUT = 3;
export const NF_INET_POST_ROUTING = 4;

export const NFQ_PACKET_HDR_LEN = 7;
export const NFQ_VERDICT_HDR_LEN = 8;
export const NFQ_CFG_CMD_LEN = 4;
export const NFQ_CFG_PARAMS_LEN = 5;
export const NFQ_TIMESTAMP_LEN = 16;

/** Offset of the first attribute: nlmsghdr (16) + nfgenmsg (4). */
export const NFQ_ATTRS_OFFSET = 16 + NFGENMSG_LEN;

function fixed(payload: Uint8Array, size: number, label: string, ctx: AttrContext): DataView {
  if (payload.length !== size) {
    throw new DecodeError("badlen", `${label} needs ${size} bytes, got ${payload.length}`, ctx.at);
  }
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
}

function blank(size: number): [Uint8Array, DataView] {
  const out = new Uint8Array(size);
  return [out, new DataView(out.buffer)];
}

export interface NfqPacketHdr {
  readonly id: number;
  /** EtherType of the packet (0x0800 IPv4, 0x86dd IPv6). */
  readonly hwProtocol: number;
  /** NF_INET_* hook the packet was queued from. */
  readonly hook: number;
}

export const packetHdrKind: AttrKind<NfqPacketHdr> = {
  label: "nfqnl_msg_packet_hdr",
  decode(payload, ctx) {
    const v = fixed(payload, NFQ_PACKET_HDR_LEN, "nfqnl_msg_packet_hdr", ctx);
    return { id: v.getUint32(0, false), hwProtocol: v.getUint16(4, false), hook: v.getUint8(6) };
  },
  encode(value) {
    const [out, v] = blank(NFQ_PACKET_HDR_LEN);
    v.setUint32(0, value.id >>> 0, false);
    v.setUint16(4, value.hwProtocol, false);
    v.setUint8(6, value.hook);
    return out;
  },
};

export interface NfqVerdictHdr {
  readonly verdict: number;
  readonly id: number;
}

export const verdictHdrKind: AttrKind<NfqVerdictHdr> = {
  label: "nfqnl_msg_verdict_hdr",
  decode(payload, ctx) {
    const v = fixed(payload, NFQ_VERDICT_HDR_LEN, "nfqnl_msg_verdict_hdr", ctx);
    return { verdict: v.getUint32(0, false), id: v.getUint32(4, false) };
  },
  encode(value) {
    const [out, v] = blank(NFQ_VERDICT_HDR_LEN);
    v.setUint32(0, value.verdict >>> 0, false);
    v.setUint32(4, value.id >>> 0, false);
    return out;
  },
};

export interface NfqConfigCmd {
  readonly command: number;
  /** AF_* for PF_BIND/PF_UNBIND; 0 (AF_UNSPEC) for BIND/UNBIND. */
  readonly pf: number;
}

export const configCmdKind: AttrKind<NfqConfigCmd> = {
  label: "nfqnl_msg_config_cmd",
  decode(payload, ctx) {
    const v = fixed(payload, NFQ_CFG_CMD_LEN, "nfqnl_msg_config_cmd", ctx);
    return { command: v.getUint8(0), pf: v.getUint16(2, false) };
  },
  encode(value) {
    const [out, v] = blank(NFQ_CFG_CMD_LEN);
    v.setUint8(0, value.command);
    v.setUint16(2, value.pf, false);
    return out;
  },
};

export interface NfqConfigParams {
  /** Bytes of each packet to copy (COPY_PACKET); the kernel caps it at 65535 - headers. */
  readonly copyRange: number;
  readonly copyMode: number;
}

export const configParamsKind: AttrKind<NfqConfigParams> = {
  label: "nfqnl_msg_config_params",
  decode(payload, ctx) {
    const v = fixed(payload, NFQ_CFG_PARAMS_LEN, "nfqnl_msg_config_params", ctx);
    return { copyRange: v.getUint32(0, false), copyMode: v.getUint8(4) };
  },
  encode(value) {
    const [out, v] = blank(NFQ_CFG_PARAMS_LEN);
    v.setUint32(0, value.copyRange >>> 0, false);
    v.setUint8(4, value.copyMode);
    return out;
  },
};

/** Seconds and microseconds of the skb's receive time (absent for most locally sent packets). */
export const timestampKind: AttrKind<{ sec: bigint; usec: bigint }> = {
  label: "nfqnl_msg_packet_timestamp",
  decode(payload, ctx) {
    const v = fixed(payload, NFQ_TIMESTAMP_LEN, "nfqnl_msg_packet_timestamp", ctx);
    return { sec: v.getBigUint64(0, false), usec: v.getBigUint64(8, false) };
  },
  encode(value) {
    const [out, v] = blank(NFQ_TIMESTAMP_LEN);
    v.setBigUint64(0, value.sec, false);
    v.setBigUint64(8, value.usec, false);
    return out;
  },
};

/** What a NFQNL_MSG_PACKET carries that the delay queue and its tests read. */
export const NFQ_PACKET_TABLE = {
  [NFQA_PACKET_HDR]: field("hdr", packetHdrKind),
  [NFQA_MARK]: field("mark", u32be),
  [NFQA_TIMESTAMP]: field("timestamp", timestampKind),
  [NFQA_IFINDEX_INDEV]: field("indev", u32be),
  [NFQA_IFINDEX_OUTDEV]: field("outdev", u32be),
  [NFQA_PAYLOAD]: field("payload", bytes),
  [NFQA_CAP_LEN]: field("capLen", u32be),
} as const;

export interface NfqPacket {
  readonly queue: number;
  readonly id: number;
  readonly hwProtocol: number;
  readonly hook: number;
  readonly mark?: number;
  readonly indev?: number;
  readonly outdev?: number;
  readonly timestamp?: { sec: bigint; usec: bigint };
  /** The first copy_range bytes of the network-layer packet (COPY_PACKET only). */
  readonly payload?: Uint8Array;
  /** The packet's full length when the payload was cut to copy_range. */
  readonly capLen?: number;
}

/**
 * Decodes one NFQNL_MSG_PACKET message (as split by splitNlMessages). Errors:
 * "badtype" (another message type), "badlen", "badval" (no NFQA_PACKET_HDR).
 */
export function decodeNfqPacket(message: NlMessage, littleEndian = HOST_LITTLE_ENDIAN): NfqPacket {
  if (message.header.type !== NFQ_MSG_PACKET) {
    throw new DecodeError(
      "badtype",
      `nlmsg_type 0x${message.header.type.toString(16)} is not NFQNL_MSG_PACKET`,
      message.offset,
    );
  }
  const gen = decodeNfGenMsg(message.payload);
  const attrs = decodeAttributes(message.payload, NFQ_PACKET_TABLE, {
    start: NFGENMSG_LEN,
    littleEndian,
    base: message.offset + 16,
  });
  if (!attrs.hdr) {
    throw new DecodeError("badval", "NFQNL_MSG_PACKET without NFQA_PACKET_HDR", message.offset);
  }
  const { hdr, ...rest } = attrs;
  return { queue: gen.resId, id: hdr.id, hwProtocol: hdr.hwProtocol, hook: hdr.hook, ...rest };
}

export interface NfqConfigRequest {
  readonly queue: number;
  readonly seq: number;
  readonly command?: NfqConfigCmd;
  readonly params?: NfqConfigParams;
  /** Packets the kernel holds for this queue before it drops (or accepts, with FAIL_OPEN). */
  readonly maxLen?: number;
  /** NFQA_CFG_FLAGS value and the mask of the bits it sets (both default to `flags`). */
  readonly flags?: number;
  readonly mask?: number;
}

/**
 * One NFQNL_MSG_CONFIG request with NLM_F_ACK, attributes in type order:
 * CMD, PARAMS, QUEUE_MAXLEN, MASK, FLAGS. nfgen_family AF_UNSPEC.
 */
export function encodeNfqConfig(
  req: NfqConfigRequest,
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  const nodes = [];
  if (req.command) nodes.push(nla(NFQA_CFG_CMD, configCmdKind, req.command));
  if (req.params) nodes.push(nla(NFQA_CFG_PARAMS, configParamsKind, req.params));
  if (req.maxLen !== undefined) nodes.push(nla(NFQA_CFG_QUEUE_MAXLEN, u32be, req.maxLen));
  if (req.flags !== undefined) {
    nodes.push(nla(NFQA_CFG_MASK, u32be, req.mask ?? req.flags));
    nodes.push(nla(NFQA_CFG_FLAGS, u32be, req.flags));
  }
  return encodeNlMsg(
    { type: NFQ_MSG_CONFIG, flags: NLM_F_REQUEST | NLM_F_ACK, seq: req.seq },
    [
      encodeNfGenMsg({ family: 0, version: NFNETLINK_V0, resId: req.queue }),
      encodeAttributes(nodes, littleEndian),
    ],
    littleEndian,
  );
}

export interface NfqVerdictRequest {
  readonly queue: number;
  readonly id: number;
  readonly verdict: number;
  readonly seq?: number;
  /** Sets the packet's mark with the verdict. */
  readonly mark?: number;
}

/** One NFQNL_MSG_VERDICT (no ACK: the kernel answers only errors). */
export function encodeNfqVerdict(
  req: NfqVerdictRequest,
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  const nodes = [nla(NFQA_VERDICT_HDR, verdictHdrKind, { verdict: req.verdict, id: req.id })];
  if (req.mark !== undefined) nodes.push(nla(NFQA_MARK, u32be, req.mark));
  return encodeNlMsg(
    { type: NFQ_MSG_VERDICT, flags: NLM_F_REQUEST, seq: req.seq ?? 0 },
    [
      encodeNfGenMsg({ family: 0, version: NFNETLINK_V0, resId: req.queue }),
      encodeAttributes(nodes, littleEndian),
    ],
    littleEndian,
  );
}
