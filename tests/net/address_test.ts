import { assertEquals } from "../helpers/assert.ts";
import {
  cidrContains,
  formatCidr,
  formatIPv6,
  netmaskToPrefix,
  parseCidr,
  parseIPv4,
  parseIPv6,
  parseMac,
} from "../../lib/net/address.ts";
import { toHex } from "../../lib/bytes/hex.ts";

Deno.test("parseIPv4() accepts dotted quads only", () => {
  const cases: Array<[string, string | undefined]> = [
    ["192.0.2.1", "c0000201"],
    ["0.0.0.0", "00000000"],
    ["255.255.255.255", "ffffffff"],
    ["256.0.0.1", undefined],
    ["01.2.3.4", undefined],
    ["1.2.3", undefined],
    ["a.b.c.d", undefined],
  ];
  for (const [text, hex] of cases) {
    const parsed = parseIPv4(text);
    assertEquals(parsed ? toHex(parsed) : undefined, hex, text);
  }
});

Deno.test("parseIPv6() and formatIPv6() follow RFC 4291 / RFC 5952", () => {
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ["2001:db8::1", "20010db8000000000000000000000001", "2001:db8::1"],
    ["::", "00000000000000000000000000000000", "::"],
    ["ff02::12", "ff020000000000000000000000000012", "ff02::12"],
    ["::ffff:192.0.2.1", "00000000000000000000ffffc0000201", "::ffff:c000:201"],
    ["2001:DB8:0:0:1:0:0:1", "20010db8000000000001000000000001", "2001:db8::1:0:0:1"],
    ["fe80::1%eth0", "fe800000000000000000000000000001", "fe80::1"],
    ["1::2::3", undefined, undefined],
    ["12345::", undefined, undefined],
    ["1:2:3:4:5:6:7", undefined, undefined],
  ];
  for (const [text, hex, formatted] of cases) {
    const parsed = parseIPv6(text);
    assertEquals(parsed ? toHex(parsed) : undefined, hex, text);
    if (parsed) assertEquals(formatIPv6(parsed), formatted, text);
  }
});

Deno.test("parseCidr(), cidrContains() and netmaskToPrefix()", () => {
  const net = parseCidr("192.0.2.0/24")!;
  assertEquals(formatCidr(net), "192.0.2.0/24");
  assertEquals(cidrContains(net, parseIPv4("192.0.2.77")!), true);
  assertEquals(cidrContains(net, parseIPv4("192.0.3.1")!), false);
  assertEquals(parseCidr("192.0.2.1/33"), undefined);
  assertEquals(parseCidr("10.0.0.1")!.prefix, 32);
  assertEquals(parseCidr("2001:db8::/129"), undefined);
  assertEquals(cidrContains(parseCidr("2001:db8::/32")!, parseIPv6("2001:db8:1::5")!), true);
  const masks: Array<[string, number | undefined]> = [
    ["255.255.255.0", 24],
    ["0xffffff00", 24],
    ["0xffffffff", 32],
    ["0.0.0.0", 0],
    ["255.0.255.0", undefined],
    ["0xffffff0", undefined],
  ];
  for (const [mask, prefix] of masks) assertEquals(netmaskToPrefix(mask), prefix, mask);
  assertEquals(parseMac("00:00:5e:00:01:01")?.length, 6);
  assertEquals(parseMac("00:00:5e:00:01"), undefined);
});
