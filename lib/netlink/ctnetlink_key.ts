/**
 * A compact map key for a conntrack entry: (zone, original tuple) packed
 * into 16-bit string units, the way the kernel addresses entries.
 *
 *   unit 0   zone
 *   unit 1   proto | present << 8   present: 0x01 srcPort, 0x02 dstPort, 0x04 icmpId,
 *                                            0x08 icmpType, 0x10 icmpCode, 0x20 IPv6
 *   then     src (2 units IPv4, 8 IPv6), dst (same), then each present field, one unit
 *
 * An IPv4 TCP key is 8 units where `ctTupleKey`'s text is about 35
 * characters built from hex digits: the provider keeps one per announced
 * and per learned flow (100,000s), and builds one per event. The text form
 * stays for the pfsync id hash (mirror.ts flowId), whose input is pinned.
 */
import type { CtTuple } from "./ct_types.ts";

const SRC_PORT = 0x01;
const DST_PORT = 0x02;
const ICMP_ID = 0x04;
const ICMP_TYPE = 0x08;
const ICMP_CODE = 0x10;
const V6 = 0x20;

const units: number[] = [];

function pushAddress(address: Uint8Array): void {
  for (let i = 0; i < address.length; i += 2) units.push((address[i] << 8) | address[i + 1]);
}

/** The compact key of (original tuple, zone). */
export function ctFlowKey(orig: CtTuple, zone = 0): string {
  const v6 = orig.src.length === 16;
  if (
    !v6 && orig.srcPort !== undefined && orig.dstPort !== undefined && orig.icmpId === undefined &&
    orig.icmpType === undefined && orig.icmpCode === undefined
  ) {
    // The common case without the array: IPv4 with ports.
    const s = orig.src;
    const d = orig.dst;
    return String.fromCharCode(
      zone & 0xffff,
      orig.proto | ((SRC_PORT | DST_PORT) << 8),
      (s[0] << 8) | s[1],
      (s[2] << 8) | s[3],
      (d[0] << 8) | d[1],
      (d[2] << 8) | d[3],
      orig.srcPort,
      orig.dstPort,
    );
  }
  let present = v6 ? V6 : 0;
  if (orig.srcPort !== undefined) present |= SRC_PORT;
  if (orig.dstPort !== undefined) present |= DST_PORT;
  if (orig.icmpId !== undefined) present |= ICMP_ID;
  if (orig.icmpType !== undefined) present |= ICMP_TYPE;
  if (orig.icmpCode !== undefined) present |= ICMP_CODE;
  units.length = 0;
  units.push(zone & 0xffff, (orig.proto & 0xff) | (present << 8));
  pushAddress(orig.src);
  pushAddress(orig.dst);
  if (orig.srcPort !== undefined) units.push(orig.srcPort);
  if (orig.dstPort !== undefined) units.push(orig.dstPort);
  if (orig.icmpId !== undefined) units.push(orig.icmpId);
  if (orig.icmpType !== undefined) units.push(orig.icmpType);
  if (orig.icmpCode !== undefined) units.push(orig.icmpCode);
  return String.fromCharCode(...units);
}

/** The inverse of `ctFlowKey`; throws RangeError for a string it did not make. */
export function parseCtFlowKey(key: string): { orig: CtTuple; zone: number } {
  if (key.length < 2) throw new RangeError("not a conntrack flow key");
  const zone = key.charCodeAt(0);
  const proto = key.charCodeAt(1) & 0xff;
  const present = key.charCodeAt(1) >> 8;
  const size = present & V6 ? 16 : 4;
  let optional = 0;
  for (const bit of [SRC_PORT, DST_PORT, ICMP_ID, ICMP_TYPE, ICMP_CODE]) {
    if (present & bit) optional++;
  }
  if (key.length !== 2 + size + optional || present & ~0x3f) {
    throw new RangeError("not a conntrack flow key");
  }
  let at = 2;
  const address = (): Uint8Array => {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i += 2) {
      const u = key.charCodeAt(at++);
      out[i] = u >> 8;
      out[i + 1] = u & 0xff;
    }
    return out;
  };
  const tuple: { -readonly [K in keyof CtTuple]: CtTuple[K] } = {
    src: address(),
    dst: address(),
    proto,
  };
  if (present & SRC_PORT) tuple.srcPort = key.charCodeAt(at++);
  if (present & DST_PORT) tuple.dstPort = key.charCodeAt(at++);
  if (present & ICMP_ID) tuple.icmpId = key.charCodeAt(at++);
  if (present & ICMP_TYPE) tuple.icmpType = key.charCodeAt(at++);
  if (present & ICMP_CODE) tuple.icmpCode = key.charCodeAt(at++);
  return { orig: tuple, zone };
}
