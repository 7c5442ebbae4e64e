/**
 * ctFlowKey(): the compact (original tuple, zone) map key. It must tell
 * apart whatever ctTupleKey's text tells apart (zones, directions, ports,
 * ICMP fields, families), and parseCtFlowKey() must give the tuple back.
 */
import { parseAddress } from "../../lib/net/address.ts";
import type { CtTuple } from "../../lib/netlink/ct_types.ts";
import { ctTupleKey } from "../../lib/netlink/ctnetlink.ts";
import { ctFlowKey, parseCtFlowKey } from "../../lib/netlink/ctnetlink_key.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

const ip = (text: string): Uint8Array => parseAddress(text)!.address;

const TUPLES: [CtTuple, number][] = [
  [{ src: ip("192.0.2.10"), dst: ip("198.51.100.20"), proto: 6, srcPort: 40000, dstPort: 443 }, 0],
  [{ src: ip("192.0.2.10"), dst: ip("198.51.100.20"), proto: 6, srcPort: 40000, dstPort: 443 }, 1],
  [{ src: ip("198.51.100.20"), dst: ip("192.0.2.10"), proto: 6, srcPort: 443, dstPort: 40000 }, 0],
  [{ src: ip("192.0.2.10"), dst: ip("198.51.100.20"), proto: 17, srcPort: 40000, dstPort: 443 }, 0],
  [{ src: ip("192.0.2.10"), dst: ip("198.51.100.20"), proto: 47 }, 0],
  [{ src: ip("192.0.2.10"), dst: ip("198.51.100.20"), proto: 47, srcPort: 0, dstPort: 0 }, 0],
  [
    { src: ip("192.0.2.1"), dst: ip("192.0.2.2"), proto: 1, icmpId: 77, icmpType: 8, icmpCode: 0 },
    0,
  ],
  [
    { src: ip("192.0.2.1"), dst: ip("192.0.2.2"), proto: 1, icmpId: 77, icmpType: 13, icmpCode: 0 },
    0,
  ],
  [{
    src: ip("2001:db8::10"),
    dst: ip("2001:db8:1::20"),
    proto: 58,
    icmpId: 4660,
    icmpType: 128,
    icmpCode: 0,
  }, 65535],
  [
    { src: ip("2001:db8::10"), dst: ip("2001:db8:1::20"), proto: 17, srcPort: 5353, dstPort: 53 },
    5,
  ],
  [{ src: ip("::ffff:192.0.2.10"), dst: ip("::1"), proto: 6, srcPort: 1, dstPort: 2 }, 0],
];

Deno.test("ctFlowKey() separates what ctTupleKey() separates, and only that", () => {
  for (const [a, za] of TUPLES) {
    for (const [b, zb] of TUPLES) {
      assertEquals(
        ctFlowKey(a, za) === ctFlowKey(b, zb),
        ctTupleKey(a, za) === ctTupleKey(b, zb),
        `${ctTupleKey(a, za)} vs ${ctTupleKey(b, zb)}`,
      );
    }
  }
});

Deno.test("ctFlowKey() of an IPv4 TCP flow is 8 units: zone, proto|present, addresses, ports", () => {
  const key = ctFlowKey(TUPLES[0][0], 0);
  assertEquals([...key].map((c) => c.charCodeAt(0)), [
    0,
    6 | (0x03 << 8),
    0xc000,
    0x020a,
    0xc633,
    0x6414,
    40000,
    443,
  ]);
});

Deno.test("parseCtFlowKey() inverts ctFlowKey() for ports, ICMP, other protocols and zones", () => {
  for (const [orig, zone] of TUPLES) {
    assertEquals(parseCtFlowKey(ctFlowKey(orig, zone)), { orig, zone });
  }
  assertThrows(() => parseCtFlowKey("x"), RangeError);
  assertThrows(() => parseCtFlowKey(String.fromCharCode(0, 6 | (0x03 << 8), 1, 2)), RangeError);
});
