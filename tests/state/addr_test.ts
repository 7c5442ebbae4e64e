/** pf_addr text conversion: the hand-rolled hot-path parser against expected bytes and lib/net. */
import { assertEquals } from "../helpers/assert.ts";
import { toHex } from "../../lib/bytes/mod.ts";
import { formatIPv6, parseIPv6 } from "../../lib/net/address.ts";
import { readPfAddr, writePfAddr } from "../../lib/state/addr.ts";

Deno.test("writePfAddr() writes IPv4 with a zero tail and IPv6 in full", () => {
  const table: [string, string | undefined][] = [
    ["192.0.2.1", "c0000201000000000000000000000000"],
    ["0.0.0.0", "00000000000000000000000000000000"],
    ["255.255.255.255", "ffffffff000000000000000000000000"],
    ["::", "00000000000000000000000000000000"],
    ["2001:db8::1", "20010db8000000000000000000000001"],
    ["::ffff:192.0.2.1", "00000000000000000000ffffc0000201"],
    ["1:2:3:4:5:6:7:8", "00010002000300040005000600070008"],
    ["FE80::A", "fe80000000000000000000000000000a"],
    ["256.0.0.1", undefined],
    ["01.2.3.4", undefined],
    ["1.2.3", undefined],
    ["1::2::3", undefined],
    ["1:2:3:4:5:6:7:8:9", undefined],
    ["12345::", undefined],
    [":1::", undefined],
    ["", undefined],
    ["fe80::1%eth0", undefined],
  ];
  for (const [text, hex] of table) {
    const out = new Uint8Array(16).fill(0xee);
    const ok = writePfAddr(text, out, 0);
    assertEquals(ok ? toHex(out) : undefined, hex, text);
  }
});

Deno.test("readPfAddr() shows IPv4 only for AF_INET with a zero tail, RFC 5952 otherwise", () => {
  const bytes = new Uint8Array(16);
  bytes.set([192, 0, 2, 1]);
  assertEquals(readPfAddr(bytes, 0, 2), "192.0.2.1");
  assertEquals(readPfAddr(bytes, 0, 28), "c000:201::");
  bytes[15] = 1;
  assertEquals(readPfAddr(bytes, 0, 2), "c000:201::1", "odd IPv4 record keeps its tail");
});

Deno.test("pf_addr IPv6 text agrees with lib/net on random addresses", () => {
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24;
  for (let i = 0; i < 5000; i++) {
    const bytes = Uint8Array.from({ length: 16 }, () => (random() < 128 ? 0 : random()));
    const text = readPfAddr(bytes, 0, 28);
    assertEquals(text, formatIPv6(bytes));
    const out = new Uint8Array(16);
    assertEquals(writePfAddr(text, out, 0), true);
    assertEquals(toHex(out), toHex(parseIPv6(text)!));
  }
});
