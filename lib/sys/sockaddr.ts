/**
 * Socket address and option structs, built from the platform's layouts.
 * Pure (no FFI): the functions take the platform table as a parameter with
 * the running one as default, so tests can encode FreeBSD structs on Linux.
 *
 * Host-order fields use the machine's endianness; ports and IPv4/IPv6
 * addresses are network order, as in C.
 */
import { platform, requireConstant, requireStruct } from "./platform/mod.ts";
import type { Platform } from "./platform/mod.ts";

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Writes the family (and on BSD the length byte) at the start of a sockaddr. */
function writeFamily(out: Uint8Array, family: number, table: Platform): void {
  if (table.sockaddrHasLen) {
    out[0] = out.length;
    out[1] = family;
  } else {
    view(out).setUint16(0, family, HOST_LITTLE_ENDIAN);
  }
}

export function sockaddrFamily(bytes: Uint8Array, table: Platform = platform()): number {
  if (bytes.length < 2) return -1;
  return table.sockaddrHasLen ? bytes[1] : view(bytes).getUint16(0, HOST_LITTLE_ENDIAN);
}

export function encodeSockaddrIn(
  address: Uint8Array,
  port = 0,
  table: Platform = platform(),
): Uint8Array<ArrayBuffer> {
  if (address.length !== 4) throw new RangeError(`sockaddr_in needs 4 address bytes`);
  const layout = requireStruct("sockaddr_in", table);
  const out = new Uint8Array(layout.size);
  writeFamily(out, requireConstant("AF_INET", table), table);
  view(out).setUint16(layout.fields.sin_port, port);
  out.set(address, layout.fields.sin_addr);
  return out;
}

export function encodeSockaddrIn6(
  address: Uint8Array,
  port = 0,
  scopeId = 0,
  table: Platform = platform(),
): Uint8Array<ArrayBuffer> {
  if (address.length !== 16) throw new RangeError(`sockaddr_in6 needs 16 address bytes`);
  const layout = requireStruct("sockaddr_in6", table);
  const out = new Uint8Array(layout.size);
  writeFamily(out, requireConstant("AF_INET6", table), table);
  view(out).setUint16(layout.fields.sin6_port, port);
  out.set(address, layout.fields.sin6_addr);
  view(out).setUint32(layout.fields.sin6_scope_id, scopeId, HOST_LITTLE_ENDIAN);
  return out;
}

export interface InetSockaddr {
  readonly family: 4 | 6;
  readonly address: Uint8Array;
  readonly port: number;
  readonly scopeId: number;
}

/** Decodes a sockaddr_in or sockaddr_in6; undefined for any other family or a short buffer. */
export function decodeInetSockaddr(
  bytes: Uint8Array,
  table: Platform = platform(),
): InetSockaddr | undefined {
  const family = sockaddrFamily(bytes, table);
  if (family === table.constants.AF_INET) {
    const f = requireStruct("sockaddr_in", table).fields;
    if (bytes.length < f.sin_addr + 4) return undefined;
    const address = bytes.slice(f.sin_addr, f.sin_addr + 4);
    return { family: 4, address, port: view(bytes).getUint16(f.sin_port), scopeId: 0 };
  }
  if (family === table.constants.AF_INET6) {
    const f = requireStruct("sockaddr_in6", table).fields;
    if (bytes.length < f.sin6_scope_id + 4) return undefined;
    return {
      family: 6,
      address: bytes.slice(f.sin6_addr, f.sin6_addr + 16),
      port: view(bytes).getUint16(f.sin6_port),
      scopeId: view(bytes).getUint32(f.sin6_scope_id, HOST_LITTLE_ENDIAN),
    };
  }
  return undefined;
}

export function encodeSockaddrNl(
  pid = 0,
  groups = 0,
  table: Platform = platform(),
): Uint8Array<ArrayBuffer> {
  const layout = requireStruct("sockaddr_nl", table);
  const out = new Uint8Array(layout.size);
  writeFamily(out, requireConstant("AF_NETLINK", table), table);
  view(out).setUint32(layout.fields.nl_pid, pid, HOST_LITTLE_ENDIAN);
  view(out).setUint32(layout.fields.nl_groups, groups >>> 0, HOST_LITTLE_ENDIAN);
  return out;
}

export function decodeSockaddrNl(
  bytes: Uint8Array,
  table: Platform = platform(),
): { pid: number; groups: number } {
  const f = requireStruct("sockaddr_nl", table).fields;
  return {
    pid: view(bytes).getUint32(f.nl_pid, HOST_LITTLE_ENDIAN),
    groups: view(bytes).getUint32(f.nl_groups, HOST_LITTLE_ENDIAN),
  };
}

export interface LinkLayerAddress {
  /** EtherType in host terms (0x0806); written big-endian as sll_protocol requires. */
  readonly protocol: number;
  readonly ifindex: number;
  readonly address?: Uint8Array;
  readonly hatype?: number;
  readonly pkttype?: number;
}

export function encodeSockaddrLl(
  ll: LinkLayerAddress,
  table: Platform = platform(),
): Uint8Array<ArrayBuffer> {
  const layout = requireStruct("sockaddr_ll", table);
  const f = layout.fields;
  const out = new Uint8Array(layout.size);
  writeFamily(out, requireConstant("AF_PACKET", table), table);
  const v = view(out);
  v.setUint16(f.sll_protocol, ll.protocol);
  v.setInt32(f.sll_ifindex, ll.ifindex, HOST_LITTLE_ENDIAN);
  v.setUint16(f.sll_hatype, ll.hatype ?? 0, HOST_LITTLE_ENDIAN);
  out[f.sll_pkttype] = ll.pkttype ?? 0;
  const address = ll.address ?? new Uint8Array(0);
  if (address.length > 8) throw new RangeError(`sockaddr_ll holds at most 8 address bytes`);
  out[f.sll_halen] = address.length;
  out.set(address, f.sll_addr);
  return out;
}

/** struct ip_mreqn: group, local address 0.0.0.0, interface by index. */
export function encodeIpMreqn(
  group: Uint8Array,
  ifindex: number,
  table: Platform = platform(),
): Uint8Array<ArrayBuffer> {
  const layout = requireStruct("ip_mreqn", table);
  const out = new Uint8Array(layout.size);
  out.set(group, layout.fields.imr_multiaddr);
  view(out).setInt32(layout.fields.imr_ifindex, ifindex, HOST_LITTLE_ENDIAN);
  return out;
}

export function encodeIpv6Mreq(
  group: Uint8Array,
  ifindex: number,
  table: Platform = platform(),
): Uint8Array<ArrayBuffer> {
  const layout = requireStruct("ipv6_mreq", table);
  const out = new Uint8Array(layout.size);
  out.set(group, layout.fields.ipv6mr_multiaddr);
  view(out).setUint32(layout.fields.ipv6mr_interface, ifindex, HOST_LITTLE_ENDIAN);
  return out;
}

/** A C `int` option value in host order. */
export function encodeInt(value: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4);
  view(out).setInt32(0, value, HOST_LITTLE_ENDIAN);
  return out;
}

export function decodeInt(bytes: Uint8Array, offset = 0): number {
  return view(bytes).getInt32(offset, HOST_LITTLE_ENDIAN);
}
