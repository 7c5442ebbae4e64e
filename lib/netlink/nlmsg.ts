/**
 * struct nlmsghdr — the 16-byte netlink message header, host byte order.
 *
 *    0               4       6       8               12              16
 *   +---------------+-------+-------+---------------+---------------+----------
 *   |  nlmsg_len    | type  | flags |  nlmsg_seq    |  nlmsg_pid    | payload…
 *   +---------------+-------+-------+---------------+---------------+----------
 *   nlmsg_len counts header + payload, not the pad to the next message;
 *   one datagram may carry several messages, each starting 4-byte aligned.
 *
 * Control types below NLMSG_MIN_TYPE are decoded through CONTROL_DECODERS
 * (a table by type, DESIGN rule 1). struct nfgenmsg (ctnetlink's 4-byte family
 * header) lives here too because it is shared by every nfnetlink subsystem.
 */
import { DecodeError } from "../bytes/errors.ts";
import { align4, decodeAttributes, field, HOST_LITTLE_ENDIAN } from "./nlattr.ts";
import { nulString, u32 } from "./nlattr_kinds.ts";

export const NLMSG_HDRLEN = 16;
export const NLMSG_OFF_LEN = 0;
export const NLMSG_OFF_TYPE = 4;
export const NLMSG_OFF_FLAGS = 6;
export const NLMSG_OFF_SEQ = 8;
export const NLMSG_OFF_PID = 12;

export const NLM_F_REQUEST = 0x001;
export const NLM_F_MULTI = 0x002;
export const NLM_F_ACK = 0x004;
export const NLM_F_ECHO = 0x008;
export const NLM_F_DUMP_INTR = 0x010;
export const NLM_F_DUMP_FILTERED = 0x020;
// GET modifiers
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_ATOMIC = 0x400;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// NEW modifiers: same bits as the GET ones, the message kind decides the meaning
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
// ACK modifiers
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const NLMSG_MIN_TYPE = 0x10;

/** Extended-ACK TLVs after an NLMSG_ERROR's echoed request (NETLINK_EXT_ACK). */
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;

export interface NlMsgHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
}

/** A message found in a datagram; `payload` (after the header) shares memory with it. */
export interface NlMessage {
  readonly header: NlMsgHeader;
  readonly payload: Uint8Array;
  /** Offset of the header inside the datagram, for error reports. */
  readonly offset: number;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeNlMsgHeader(
  bytes: Uint8Array,
  offset = 0,
  littleEndian = HOST_LITTLE_ENDIAN,
): NlMsgHeader {
  if (bytes.length - offset < NLMSG_HDRLEN) {
    throw new DecodeError(
      "badlen",
      `netlink header needs 16 bytes, ${bytes.length - offset} left`,
      offset,
    );
  }
  const view = viewOf(bytes);
  return {
    length: view.getUint32(offset + NLMSG_OFF_LEN, littleEndian),
    type: view.getUint16(offset + NLMSG_OFF_TYPE, littleEndian),
    flags: view.getUint16(offset + NLMSG_OFF_FLAGS, littleEndian),
    seq: view.getUint32(offset + NLMSG_OFF_SEQ, littleEndian),
    pid: view.getUint32(offset + NLMSG_OFF_PID, littleEndian),
  };
}

export interface NlMsgInit {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid?: number;
}

/** Header + payload parts (fixed family header, then attributes), length filled in. */
export function encodeNlMsg(
  init: NlMsgInit,
  parts: readonly Uint8Array[],
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  let length = NLMSG_HDRLEN;
  for (const part of parts) length = align4(length) + part.length;
  const out = new Uint8Array(length);
  const view = viewOf(out);
  view.setUint32(NLMSG_OFF_LEN, length, littleEndian);
  view.setUint16(NLMSG_OFF_TYPE, init.type, littleEndian);
  view.setUint16(NLMSG_OFF_FLAGS, init.flags, littleEndian);
  view.setUint32(NLMSG_OFF_SEQ, init.seq >>> 0, littleEndian);
  view.setUint32(NLMSG_OFF_PID, (init.pid ?? 0) >>> 0, littleEndian);
  let at = NLMSG_HDRLEN;
  for (const part of parts) {
    at = align4(at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Splits one received datagram into messages; checks 16 <= nlmsg_len <= remaining. */
export function splitNlMessages(
  datagram: Uint8Array,
  littleEndian = HOST_LITTLE_ENDIAN,
): NlMessage[] {
  const out: NlMessage[] = [];
  let at = 0;
  while (at < datagram.length) {
    const header = decodeNlMsgHeader(datagram, at, littleEndian);
    if (header.length < NLMSG_HDRLEN || header.length > datagram.length - at) {
      throw new DecodeError(
        "badlen",
        `nlmsg_len ${header.length} with ${datagram.length - at} bytes left`,
        at,
      );
    }
    out.push({
      header,
      payload: datagram.subarray(at + NLMSG_HDRLEN, at + header.length),
      offset: at,
    });
    at += align4(header.length);
  }
  return out;
}

/** What a message means to a request loop. `errno` is positive (kernel sends -errno). */
export type NlReply =
  | { readonly kind: "data"; readonly message: NlMessage }
  | { readonly kind: "ack"; readonly message: NlMessage }
  | {
    readonly kind: "error";
    readonly message: NlMessage;
    readonly errno: number;
    readonly request?: NlMsgHeader;
    readonly extMessage?: string;
    readonly extOffset?: number;
  }
  | { readonly kind: "done"; readonly message: NlMessage; readonly errno: number }
  | { readonly kind: "noop"; readonly message: NlMessage }
  | { readonly kind: "overrun"; readonly message: NlMessage };

const EXT_ACK_TABLE = {
  [NLMSGERR_ATTR_MSG]: field("text", nulString),
  [NLMSGERR_ATTR_OFFS]: field("offset", u32),
};

function decodeStatus(message: NlMessage, what: string, littleEndian: boolean): number {
  if (message.payload.length < 4) {
    throw new DecodeError("badlen", `${what} without its int32 status`, message.offset);
  }
  const status = viewOf(message.payload).getInt32(0, littleEndian);
  // The kernel sends 0 or -errno; anything positive is not a status.
  if (status > 0) throw new DecodeError("badval", `${what} status ${status} > 0`, message.offset);
  return status === 0 ? 0 : -status;
}

function decodeError(message: NlMessage, littleEndian: boolean): NlReply {
  const errno = decodeStatus(message, "NLMSG_ERROR", littleEndian);
  const p = message.payload;
  const request = p.length >= 4 + NLMSG_HDRLEN ? decodeNlMsgHeader(p, 4, littleEndian) : undefined;
  if (errno === 0) return { kind: "ack", message };
  if (!request || (message.header.flags & NLM_F_ACK_TLVS) === 0) {
    return { kind: "error", message, errno, request };
  }
  // TLVs follow the echoed request: only its header when CAPPED, else all of it.
  const echoed = (message.header.flags & NLM_F_CAPPED) !== 0 ? NLMSG_HDRLEN : request.length;
  // Not align4: nlmsg_len of the echo is an untrusted u32, beyond int32 bit arithmetic.
  const start = Math.min(p.length, 4 + Math.ceil(echoed / 4) * 4);
  const ext = decodeAttributes(p, EXT_ACK_TABLE, {
    start,
    littleEndian,
    base: message.offset + NLMSG_HDRLEN,
  });
  return { kind: "error", message, errno, request, extMessage: ext.text, extOffset: ext.offset };
}

const CONTROL_DECODERS: Record<number, (m: NlMessage, le: boolean) => NlReply> = {
  [NLMSG_NOOP]: (message) => ({ kind: "noop", message }),
  [NLMSG_ERROR]: decodeError,
  // An empty DONE payload occurs from some families; treat it as success.
  [NLMSG_DONE]: (message, le) => ({
    kind: "done",
    message,
    errno: message.payload.length === 0 ? 0 : decodeStatus(message, "NLMSG_DONE", le),
  }),
  [NLMSG_OVERRUN]: (message) => ({ kind: "overrun", message }),
};

/** Classifies a message: family data, or ACK/error/DONE/NOOP/OVERRUN with the status decoded. */
export function classifyNlMessage(message: NlMessage, littleEndian = HOST_LITTLE_ENDIAN): NlReply {
  const decode = CONTROL_DECODERS[message.header.type];
  if (decode) return decode(message, littleEndian);
  if (message.header.type < NLMSG_MIN_TYPE) {
    throw new DecodeError(
      "badtype",
      `reserved control type ${message.header.type}`,
      message.offset,
    );
  }
  return { kind: "data", message };
}

/**
 * struct nfgenmsg — 4 bytes after the header of every nfnetlink message.
 *   16: nfgen_family (u8) | 17: version (u8) | 18: res_id (u16, big-endian)
 */
export const NFGENMSG_LEN = 4;
export const NFNETLINK_V0 = 0;

export interface NfGenMsg {
  readonly family: number;
  readonly version: number;
  readonly resId: number;
}

export function encodeNfGenMsg(value: NfGenMsg): Uint8Array {
  const out = new Uint8Array(NFGENMSG_LEN);
  out[0] = value.family;
  out[1] = value.version;
  viewOf(out).setUint16(2, value.resId, false);
  return out;
}

/** `offset` of the nfgenmsg inside `bytes` (normally a message payload: 0). */
export function decodeNfGenMsg(bytes: Uint8Array, offset = 0): NfGenMsg {
  if (bytes.length - offset < NFGENMSG_LEN) {
    throw new DecodeError("badlen", "nfgenmsg needs 4 bytes", offset);
  }
  return {
    family: bytes[offset],
    version: bytes[offset + 1],
    resId: viewOf(bytes).getUint16(offset + 2, false),
  };
}
