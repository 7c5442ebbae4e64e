/**
 * rtnetlink link and address messages: the fixed family header after the
 * nlmsghdr, then attributes decoded through IFLA_TABLE / IFA_TABLE.
 *
 * struct ifinfomsg (16 bytes, host order)          struct ifaddrmsg (8 bytes)
 *    0      1      2       4         8         12      0       1        2       3      4
 *   +------+------+-------+---------+---------+-----+  +-------+--------+-------+------+-------+
 *   |family| pad  | type  | index   | flags   |change|  |family |prefixlen| flags |scope |index  |
 *   +------+------+-------+---------+---------+-----+  +-------+--------+-------+------+-------+
 *   type = ARPHRD_*, index = s32, flags = IFF_*       flags = low 8 bits of IFA_F_*, index = u32
 */
import { DecodeError } from "../bytes/errors.ts";
import {
  attributesFromTable,
  type AttrNode,
  type AttrSpec,
  decodeAttributes,
  type DecodedAttrs,
  encodeAttributes,
  field,
  HOST_LITTLE_ENDIAN,
  nla,
  nlaNest,
} from "./nlattr.ts";
import { bytes, bytesOf, nested, nulString, u32, u8 } from "./nlattr_kinds.ts";
import { encodeNlMsg, NLM_F_DUMP, NLM_F_REQUEST } from "./nlmsg.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_CACHEINFO,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFA_PROTO,
  IFA_RT_PRIORITY,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_BROADCAST,
  IFLA_CARRIER,
  IFLA_CARRIER_CHANGES,
  IFLA_EXT_MASK,
  IFLA_GROUP,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_LINKMODE,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_OPERSTATE,
  IFLA_PERM_ADDRESS,
  IFLA_QDISC,
  IFLA_TXQLEN,
  RTEXT_FILTER_SKIP_STATS,
  RTM_DELLINK,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWLINK,
} from "./rtnetlink_consts.ts";

export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;

/** Explicit so the decoded field types are part of the public API (no slow types). */
export type IflaTable = {
  readonly [IFLA_ADDRESS]: AttrSpec<"address", Uint8Array>;
  readonly [IFLA_BROADCAST]: AttrSpec<"broadcast", Uint8Array>;
  readonly [IFLA_IFNAME]: AttrSpec<"ifname", string>;
  readonly [IFLA_MTU]: AttrSpec<"mtu", number>;
  readonly [IFLA_LINK]: AttrSpec<"link", number>;
  readonly [IFLA_QDISC]: AttrSpec<"qdisc", string>;
  readonly [IFLA_MASTER]: AttrSpec<"master", number>;
  readonly [IFLA_TXQLEN]: AttrSpec<"txqlen", number>;
  readonly [IFLA_OPERSTATE]: AttrSpec<"operstate", number>;
  readonly [IFLA_LINKMODE]: AttrSpec<"linkmode", number>;
  readonly [IFLA_LINKINFO]: AttrSpec<"linkinfo", { kind?: string }>;
  readonly [IFLA_IFALIAS]: AttrSpec<"alias", string>;
  readonly [IFLA_GROUP]: AttrSpec<"group", number>;
  readonly [IFLA_EXT_MASK]: AttrSpec<"extMask", number>;
  readonly [IFLA_CARRIER]: AttrSpec<"carrier", number>;
  readonly [IFLA_CARRIER_CHANGES]: AttrSpec<"carrierChanges", number>;
  readonly [IFLA_PERM_ADDRESS]: AttrSpec<"permAddress", Uint8Array>;
};

export type IfaTable = {
  readonly [IFA_ADDRESS]: AttrSpec<"address", Uint8Array>;
  readonly [IFA_LOCAL]: AttrSpec<"local", Uint8Array>;
  readonly [IFA_LABEL]: AttrSpec<"label", string>;
  readonly [IFA_BROADCAST]: AttrSpec<"broadcast", Uint8Array>;
  readonly [IFA_CACHEINFO]: AttrSpec<"cacheinfo", Uint8Array>;
  readonly [IFA_FLAGS]: AttrSpec<"flags", number>;
  readonly [IFA_RT_PRIORITY]: AttrSpec<"rtPriority", number>;
  readonly [IFA_PROTO]: AttrSpec<"proto", number>;
};

export const IFLA_TABLE: IflaTable = {
  [IFLA_ADDRESS]: field("address", bytes),
  [IFLA_BROADCAST]: field("broadcast", bytes),
  [IFLA_IFNAME]: field("ifname", nulString),
  [IFLA_MTU]: field("mtu", u32),
  [IFLA_LINK]: field("link", u32),
  [IFLA_QDISC]: field("qdisc", nulString),
  [IFLA_MASTER]: field("master", u32),
  [IFLA_TXQLEN]: field("txqlen", u32),
  [IFLA_OPERSTATE]: field("operstate", u8),
  [IFLA_LINKMODE]: field("linkmode", u8),
  [IFLA_LINKINFO]: field("linkinfo", nested({ [IFLA_INFO_KIND]: field("kind", nulString) })),
  [IFLA_IFALIAS]: field("alias", nulString),
  [IFLA_GROUP]: field("group", u32),
  [IFLA_EXT_MASK]: field("extMask", u32),
  [IFLA_CARRIER]: field("carrier", u8),
  [IFLA_CARRIER_CHANGES]: field("carrierChanges", u32),
  [IFLA_PERM_ADDRESS]: field("permAddress", bytes),
};

export const IFA_TABLE: IfaTable = {
  [IFA_ADDRESS]: field("address", bytesOf(4, 16)),
  [IFA_LOCAL]: field("local", bytesOf(4, 16)),
  [IFA_LABEL]: field("label", nulString),
  [IFA_BROADCAST]: field("broadcast", bytesOf(4)),
  [IFA_CACHEINFO]: field("cacheinfo", bytesOf(16)),
  [IFA_FLAGS]: field("flags", u32),
  [IFA_RT_PRIORITY]: field("rtPriority", u32),
  [IFA_PROTO]: field("proto", u8),
};

export type LinkAttrs = DecodedAttrs<IflaTable>;
export type AddrAttrs = DecodedAttrs<IfaTable>;

export interface LinkMessage {
  readonly family: number;
  /** ARPHRD_* (1 = Ethernet, 772 = loopback). */
  readonly type: number;
  readonly index: number;
  readonly flags: number;
  readonly change: number;
  readonly attrs: LinkAttrs;
}

export interface AddrMessage {
  readonly family: number;
  readonly prefixLength: number;
  /** Low 8 bits only; `attrs.flags` (IFA_FLAGS) is authoritative when present. */
  readonly flags: number;
  readonly scope: number;
  readonly index: number;
  readonly attrs: AddrAttrs;
}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function need(payload: Uint8Array, size: number, what: string, base: number): DataView {
  if (payload.length < size) {
    throw new DecodeError("badlen", `${what} needs ${size} bytes, got ${payload.length}`, base);
  }
  return viewOf(payload);
}

/** `payload` = what follows the nlmsghdr; `base` = its offset for error reports. */
export function decodeLinkMessage(
  payload: Uint8Array,
  littleEndian = HOST_LITTLE_ENDIAN,
  base = 0,
): LinkMessage {
  const view = need(payload, IFINFOMSG_LEN, "ifinfomsg", base);
  return {
    family: view.getUint8(0),
    type: view.getUint16(2, littleEndian),
    index: view.getInt32(4, littleEndian),
    flags: view.getUint32(8, littleEndian),
    change: view.getUint32(12, littleEndian),
    attrs: decodeAttributes(payload, IFLA_TABLE, { start: IFINFOMSG_LEN, littleEndian, base }),
  };
}

export function decodeAddrMessage(
  payload: Uint8Array,
  littleEndian = HOST_LITTLE_ENDIAN,
  base = 0,
): AddrMessage {
  const view = need(payload, IFADDRMSG_LEN, "ifaddrmsg", base);
  return {
    family: view.getUint8(0),
    prefixLength: view.getUint8(1),
    flags: view.getUint8(2),
    scope: view.getUint8(3),
    index: view.getUint32(4, littleEndian),
    attrs: decodeAttributes(payload, IFA_TABLE, { start: IFADDRMSG_LEN, littleEndian, base }),
  };
}

export type LinkHeader = Omit<LinkMessage, "attrs">;
export type AddrHeader = Omit<AddrMessage, "attrs">;

export function encodeIfInfoMsg(h: LinkHeader, littleEndian = HOST_LITTLE_ENDIAN): Uint8Array {
  const out = new Uint8Array(IFINFOMSG_LEN);
  const view = viewOf(out);
  view.setUint8(0, h.family);
  view.setUint16(2, h.type, littleEndian);
  view.setInt32(4, h.index, littleEndian);
  view.setUint32(8, h.flags >>> 0, littleEndian);
  view.setUint32(12, h.change >>> 0, littleEndian);
  return out;
}

export function encodeIfAddrMsg(h: AddrHeader, littleEndian = HOST_LITTLE_ENDIAN): Uint8Array {
  const out = new Uint8Array(IFADDRMSG_LEN);
  const view = viewOf(out);
  view.setUint8(0, h.family);
  view.setUint8(1, h.prefixLength);
  view.setUint8(2, h.flags & 0xff);
  view.setUint8(3, h.scope);
  view.setUint32(4, h.index >>> 0, littleEndian);
  return out;
}

/** A whole link message (header + ifinfomsg + attributes); used for events and fakes. */
export function encodeLinkMessage(
  init: { type: number; flags: number; seq: number; pid?: number },
  link: LinkMessage,
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  const attrs = encodeAttributes(attributesFromTable(IFLA_TABLE, link.attrs), littleEndian);
  return encodeNlMsg(init, [encodeIfInfoMsg(link, littleEndian), attrs], littleEndian);
}

export function encodeAddrMessage(
  init: { type: number; flags: number; seq: number; pid?: number },
  addr: AddrMessage,
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  const attrs = encodeAttributes(attributesFromTable(IFA_TABLE, addr.attrs), littleEndian);
  return encodeNlMsg(init, [encodeIfAddrMsg(addr, littleEndian), attrs], littleEndian);
}

/** RTM_GETLINK dump of every interface, counters left out (IFLA_EXT_MASK). */
export function encodeGetLinkDump(seq: number, littleEndian = HOST_LITTLE_ENDIAN): Uint8Array {
  const header = { family: AF_UNSPEC, type: 0, index: 0, flags: 0, change: 0 };
  const attrs: AttrNode[] = [nla(IFLA_EXT_MASK, u32, RTEXT_FILTER_SKIP_STATS)];
  return encodeNlMsg(
    { type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq },
    [encodeIfInfoMsg(header, littleEndian), encodeAttributes(attrs, littleEndian)],
    littleEndian,
  );
}

/** RTM_GETADDR dump for one family (AF_UNSPEC = both). */
export function encodeGetAddrDump(
  seq: number,
  family = AF_UNSPEC,
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  const header = { family, prefixLength: 0, flags: 0, scope: 0, index: 0 };
  return encodeNlMsg(
    { type: RTM_GETADDR, flags: NLM_F_REQUEST | NLM_F_DUMP, seq },
    [encodeIfAddrMsg(header, littleEndian)],
    littleEndian,
  );
}

export interface AddressRequest {
  readonly index: number;
  /** 4 or 16 bytes, network order. */
  readonly address: Uint8Array;
  readonly prefixLength: number;
  /** IFA_F_* (e.g. IFA_F_NODAD). */
  readonly flags?: number;
  readonly scope?: number;
  readonly label?: string;
}

/**
 * RTM_NEWADDR / RTM_DELADDR byte for byte as `ip addr add|del` sends them: the
 * address as IFA_LOCAL and IFA_ADDRESS (same value = no peer) for both
 * families; flags in ifa_flags, IFA_FLAGS only when they do not fit 8 bits.
 */
export function encodeAddressRequest(
  type: number,
  flags: number,
  seq: number,
  req: AddressRequest,
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  const v4 = req.address.length === 4;
  if (!v4 && req.address.length !== 16) {
    throw new RangeError(`address of ${req.address.length} bytes, expected 4 or 16`);
  }
  const addrFlags = req.flags ?? 0;
  const header = {
    family: v4 ? AF_INET : AF_INET6,
    prefixLength: req.prefixLength,
    flags: addrFlags & 0xff,
    scope: req.scope ?? 0,
    index: req.index,
  };
  const attrs: AttrNode[] = [
    nla(IFA_LOCAL, bytes, req.address),
    nla(IFA_ADDRESS, bytes, req.address),
  ];
  if (req.label !== undefined) attrs.push(nla(IFA_LABEL, nulString, req.label));
  if (addrFlags > 0xff) attrs.push(nla(IFA_FLAGS, u32, addrFlags));
  return encodeNlMsg(
    { type, flags, seq },
    [encodeIfAddrMsg(header, littleEndian), encodeAttributes(attrs, littleEndian)],
    littleEndian,
  );
}

/** Nested in IFLA_LINKINFO: the kind's own attributes. */
export const IFLA_INFO_DATA = 2;
/** Nested in IFLA_INFO_DATA for kind "macvlan": the `macvlan_mode` (u32). */
export const IFLA_MACVLAN_MODE = 1;
/** `enum macvlan_mode`: private drops traffic between siblings, bridge passes it. */
export const MACVLAN_MODE_PRIVATE = 1;
export const MACVLAN_MODE_VEPA = 2;
export const MACVLAN_MODE_BRIDGE = 4;

/** A macvlan child to create on `parentIndex` (the optional CARP virtual MAC). */
export interface MacvlanRequest {
  readonly name: string;
  readonly parentIndex: number;
  readonly mac: Uint8Array;
  readonly mode: number;
  /** Bring the new link up in the same request (IFF_UP in flags and change). */
  readonly up: boolean;
}

/**
 * RTM_NEWLINK for a macvlan: ifinfomsg (AF_UNSPEC, index 0, IFF_UP when `up`),
 * IFLA_IFNAME, IFLA_ADDRESS (6 bytes), IFLA_LINK (u32 parent ifindex) and
 * IFLA_LINKINFO { IFLA_INFO_KIND "macvlan", IFLA_INFO_DATA { IFLA_MACVLAN_MODE u32 } }.
 */
export function encodeMacvlanRequest(
  flags: number,
  seq: number,
  req: MacvlanRequest,
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  if (req.mac.length !== 6) throw new RangeError(`MAC of ${req.mac.length} bytes, expected 6`);
  if (req.name.length === 0 || new TextEncoder().encode(req.name).length > 15) {
    throw new RangeError(`interface name ${JSON.stringify(req.name)} must be 1-15 bytes`);
  }
  const upFlag = req.up ? IFF_UP : 0;
  const header = { family: AF_UNSPEC, type: 0, index: 0, flags: upFlag, change: upFlag };
  const attrs: AttrNode[] = [
    nla(IFLA_IFNAME, nulString, req.name),
    nla(IFLA_ADDRESS, bytes, req.mac),
    nla(IFLA_LINK, u32, req.parentIndex),
    nlaNest(IFLA_LINKINFO, [
      nla(IFLA_INFO_KIND, nulString, "macvlan"),
      nlaNest(IFLA_INFO_DATA, [nla(IFLA_MACVLAN_MODE, u32, req.mode)]),
    ]),
  ];
  return encodeNlMsg(
    { type: RTM_NEWLINK, flags, seq },
    [encodeIfInfoMsg(header, littleEndian), encodeAttributes(attrs, littleEndian)],
    littleEndian,
  );
}

/** RTM_DELLINK of the interface called `name` (ifinfomsg index 0, IFLA_IFNAME). */
export function encodeDeleteLinkRequest(
  flags: number,
  seq: number,
  name: string,
  littleEndian = HOST_LITTLE_ENDIAN,
): Uint8Array {
  const header = { family: AF_UNSPEC, type: 0, index: 0, flags: 0, change: 0 };
  return encodeNlMsg(
    { type: RTM_DELLINK, flags, seq },
    [
      encodeIfInfoMsg(header, littleEndian),
      encodeAttributes([nla(IFLA_IFNAME, nulString, name)], littleEndian),
    ],
    littleEndian,
  );
}
