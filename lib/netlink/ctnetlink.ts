/**
 * ctnetlink messages (NETLINK_NETFILTER, subsystem CTNETLINK = 1):
 * IPCTNL_MSG_CT_NEW / GET / DELETE requests, dumps and events.
 *
 *    0               4       6       8               12              16  17  18      20
 *   +---------------+-------+-------+---------------+---------------+---+---+-------+------
 *   |  nlmsg_len    | type  | flags |  nlmsg_seq    |  nlmsg_pid    |fam|ver|res_id | attrs
 *   +---------------+-------+-------+---------------+---------------+---+---+-------+------
 *   struct nlmsghdr (host order)                                     struct nfgenmsg (res_id BE)
 *   type = 0x01 << 8 | op (0x0100 NEW, 0x0101 GET, 0x0102 DELETE)
 *
 * Attributes (CTA_*) follow at offset 20; see ct_entry.ts. The request
 * builders here encode the kernel's rules for each operation (spec §2.8,
 * §2.11): create needs both tuples and a timeout and always carries
 * IPS_CONFIRMED; an update never carries NAT, helper, master or reply tuple;
 * a delete/get carries the original tuple and the zone only.
 */
import { DecodeError } from "../bytes/errors.ts";
import { AttrWriter } from "./ct_attr.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  CT_MSG_DELETE,
  CT_MSG_GET,
  CT_MSG_NEW,
  IPS,
  NFNL_SUBSYS_CTNETLINK,
} from "./ct_constants.ts";
import { decodeCtEntry, encodeCtEntry } from "./ct_entry.ts";
import type { CtEntry, CtEventKind, CtMessage, CtTuple } from "./ct_types.ts";
import {
  decodeNfGenMsg,
  decodeNlMsgHeader,
  NFGENMSG_LEN,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  type NlMessage,
  NLMSG_HDRLEN,
} from "./nlmsg.ts";
import { HOST_LITTLE_ENDIAN } from "./nlattr.ts";

/** Offset of the first attribute: nlmsghdr (16) + nfgenmsg (4). */
export const CT_ATTRS_OFFSET = NLMSG_HDRLEN + NFGENMSG_LEN;

/** Flag sets of the operations (spec §1.6 table). */
export const CT_FLAGS_CREATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE; // 0x0605
export const CT_FLAGS_CREATE_OR_UPDATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE; // 0x0405
export const CT_FLAGS_UPDATE = NLM_F_REQUEST | NLM_F_ACK; // 0x0005
export const CT_FLAGS_DUMP = NLM_F_REQUEST | NLM_F_DUMP; // 0x0301

export type CtMessageInit = Omit<CtMessage, "pid" | "version" | "resId"> & {
  readonly pid?: number;
  readonly version?: number;
  readonly resId?: number;
};

/**
 * Encode one message. With `out` the bytes are written there (and the
 * returned view shares it) unless they do not fit, in which case a larger
 * buffer is allocated — so a sender can reuse one buffer per socket.
 */
export function encodeCtMessage(msg: CtMessageInit, out?: Uint8Array): Uint8Array {
  const w = new AttrWriter(out ?? 256, CT_ATTRS_OFFSET);
  encodeCtEntry(w, msg.entry);
  const view = w.view;
  view.setUint32(0, w.offset, HOST_LITTLE_ENDIAN);
  view.setUint16(4, msg.type, HOST_LITTLE_ENDIAN);
  view.setUint16(6, msg.flags, HOST_LITTLE_ENDIAN);
  view.setUint32(8, msg.seq >>> 0, HOST_LITTLE_ENDIAN);
  view.setUint32(12, (msg.pid ?? 0) >>> 0, HOST_LITTLE_ENDIAN);
  view.setUint8(16, msg.family);
  view.setUint8(17, msg.version ?? 0);
  view.setUint16(18, msg.resId ?? 0, false);
  return w.written();
}

/** Decode one whole message (header included) of subsystem CTNETLINK. */
export function decodeCtMessage(bytes: Uint8Array): CtMessage {
  const header = decodeNlMsgHeader(bytes, 0);
  if (header.length < CT_ATTRS_OFFSET || header.length > bytes.length) {
    throw new DecodeError("badlen", `ctnetlink message length ${header.length}`, 0);
  }
  if (header.type >> 8 !== NFNL_SUBSYS_CTNETLINK) {
    throw new DecodeError(
      "badtype",
      `not a ctnetlink message: type 0x${header.type.toString(16)}`,
      4,
    );
  }
  const gen = decodeNfGenMsg(bytes, NLMSG_HDRLEN);
  return {
    type: header.type,
    flags: header.flags,
    seq: header.seq,
    pid: header.pid,
    family: gen.family,
    version: gen.version,
    resId: gen.resId,
    entry: decodeCtEntry(bytes, CT_ATTRS_OFFSET, header.length),
  };
}

/** Decode a message found by `splitNlMessages` (its payload starts at nfgenmsg). */
export function decodeCtNlMessage(message: NlMessage): CtMessage {
  const { header, payload } = message;
  if (header.type >> 8 !== NFNL_SUBSYS_CTNETLINK) {
    throw new DecodeError(
      "badtype",
      `not a ctnetlink message: type 0x${header.type.toString(16)}`,
      message.offset + 4,
    );
  }
  const gen = decodeNfGenMsg(payload, 0);
  const base = message.offset + NLMSG_HDRLEN;
  let entry: CtEntry;
  try {
    entry = decodeCtEntry(payload, NFGENMSG_LEN, payload.length);
  } catch (error) {
    // Re-anchor the offset to the datagram so the error points at the right byte.
    if (error instanceof DecodeError) {
      throw new DecodeError(error.reason, error.message, base + error.offset);
    }
    throw error;
  }
  return {
    type: header.type,
    flags: header.flags,
    seq: header.seq,
    pid: header.pid,
    family: gen.family,
    version: gen.version,
    resId: gen.resId,
    entry,
  };
}

/**
 * Event classification as libnetfilter_conntrack does it (§2.9 fact 5): NEW
 * with CREATE or EXCL is "new", other NEW messages (updates, dump entries)
 * "update", DELETE "destroy". Anything else is not an entry message.
 */
export function ctEventKind(msg: Pick<CtMessage, "type" | "flags">): CtEventKind | undefined {
  if (msg.type === CT_MSG_NEW) {
    return (msg.flags & (NLM_F_CREATE | NLM_F_EXCL)) !== 0 ? "new" : "update";
  }
  if (msg.type === CT_MSG_DELETE) return "destroy";
  return undefined;
}

/** nfgen_family for a tuple: Linux AF_INET or AF_INET6 from the address size. */
export function ctFamilyOf(tuple: CtTuple): number {
  return tuple.src.length === 16 ? AF_INET6 : AF_INET;
}

function requireOrig(entry: CtEntry, what: string): CtTuple {
  if (!entry.orig) throw new RangeError(`${what}: the entry has no original tuple`);
  return entry.orig;
}

/**
 * Create with EXCL (`conntrack -I`, vector 5.2). Both tuples and a timeout
 * are mandatory for the kernel (rule 5), and CONFIRMED must be set (rule 6).
 */
export function ctCreateRequest(entry: CtEntry, seq: number, flags = CT_FLAGS_CREATE): Uint8Array {
  const orig = requireOrig(entry, "create");
  if (!entry.reply) throw new RangeError("create: the entry has no reply tuple");
  if (entry.timeout === undefined) throw new RangeError("create: the entry has no timeout");
  const status = ((entry.status ?? 0) & ~IPS.EXPECTED) | IPS.CONFIRMED;
  return encodeCtMessage({
    type: CT_MSG_NEW,
    flags,
    seq,
    family: ctFamilyOf(orig),
    entry: { ...entry, status, id: undefined, use: undefined },
  });
}

/**
 * Update an existing entry (flags 0x0005, no CREATE): only the attributes
 * the kernel may change on a live entry (§2.11); NAT, helper and master
 * would fail with EOPNOTSUPP/EBUSY, counters and ids are ignored anyway.
 */
export function ctUpdateRequest(entry: CtEntry, seq: number): Uint8Array {
  const orig = requireOrig(entry, "update");
  const update: CtEntry = {
    orig,
    zone: entry.zone,
    status: entry.status === undefined ? undefined : (entry.status & ~IPS.EXPECTED) | IPS.CONFIRMED,
    timeout: entry.timeout,
    tcp: entry.tcp,
    mark: entry.mark,
    labels: entry.labels,
  };
  return encodeCtMessage({
    type: CT_MSG_NEW,
    flags: CT_FLAGS_UPDATE,
    seq,
    family: ctFamilyOf(orig),
    entry: update,
  });
}

/** Delete one entry by its original tuple (+ zone, rule 11); never with a foreign CTA_ID (rule 10). */
export function ctDeleteRequest(orig: CtTuple, seq: number, zone?: number): Uint8Array {
  return encodeCtMessage({
    type: CT_MSG_DELETE,
    flags: CT_FLAGS_UPDATE,
    seq,
    family: ctFamilyOf(orig),
    entry: { orig, zone },
  });
}

/** Get one entry by its original tuple (+ zone). */
export function ctGetRequest(orig: CtTuple, seq: number, zone?: number): Uint8Array {
  return encodeCtMessage({
    type: CT_MSG_GET,
    flags: CT_FLAGS_UPDATE,
    seq,
    family: ctFamilyOf(orig),
    entry: { orig, zone },
  });
}

/** Dump the table (vector 5.6); family 0 = all, 2/10 = one family. */
export function ctDumpRequest(seq: number, family = AF_UNSPEC): Uint8Array {
  return encodeCtMessage({ type: CT_MSG_GET, flags: CT_FLAGS_DUMP, seq, family, entry: {} });
}

/**
 * Flush (DELETE without a tuple). Version 1 restricts the flush to `family`;
 * version 0 would flush every family whatever nfgen_family says (rule 18).
 */
export function ctFlushRequest(seq: number, family = AF_UNSPEC): Uint8Array {
  return encodeCtMessage({
    type: CT_MSG_DELETE,
    flags: CT_FLAGS_UPDATE,
    seq,
    family,
    version: family === AF_UNSPEC ? 0 : 1,
    entry: {},
  });
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * A map key for an entry: (zone, original tuple). This is how the kernel
 * looks entries up and how receivers address replicated entries (LX1 rule 12).
 */
export function ctTupleKey(orig: CtTuple, zone = 0): string {
  return `${zone}/${orig.proto}/${hex(orig.src)}/${hex(orig.dst)}/` +
    `${orig.srcPort ?? ""}/${orig.dstPort ?? ""}/${orig.icmpId ?? ""}/${orig.icmpType ?? ""}/${
      orig.icmpCode ?? ""
    }`;
}

function unhex(text: string): Uint8Array {
  const out = new Uint8Array(text.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const optional = (text: string): number | undefined => (text === "" ? undefined : Number(text));

/**
 * The inverse of `ctTupleKey`, so a map keyed by flow need not also hold the
 * tuple objects (tens of bytes instead of hundreds per entry). Throws
 * RangeError for text that no ctTupleKey produced.
 */
export function parseCtTupleKey(key: string): { orig: CtTuple; zone: number } {
  const parts = key.split("/");
  if (parts.length !== 9) throw new RangeError(`not a conntrack tuple key: ${key}`);
  const [zone, proto, src, dst, srcPort, dstPort, icmpId, icmpType, icmpCode] = parts;
  const tuple: { -readonly [K in keyof CtTuple]: CtTuple[K] } = {
    src: unhex(src),
    dst: unhex(dst),
    proto: Number(proto),
  };
  const fields = { srcPort, dstPort, icmpId, icmpType, icmpCode };
  for (const [name, text] of Object.entries(fields) as [keyof typeof fields, string][]) {
    const value = optional(text);
    if (value !== undefined) tuple[name] = value;
  }
  return { orig: tuple, zone: Number(zone) };
}
