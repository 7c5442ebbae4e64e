import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { DecodeError, fromHex, toHex } from "../../lib/bytes/mod.ts";
import { formatAddress, formatMac } from "../../lib/net/mod.ts";
import {
  CARP_GROUP_MAC_V4,
  CARP_GROUP_MAC_V6,
  CARP_GROUP_V4,
  CARP_GROUP_V6,
  CARP_HEADER_LENGTH,
  decodeCarpHeader,
  encodeCarpHeader,
  readCarpHeader,
} from "../../lib/carp/mod.ts";

// Spec §2.5 vector 1: ucarp 1.5.2, vhid 7, pass "secret", VIP 10.99.0.100.
const UCARP_CAPTURE = fromHex(`
  21                                        # version 2, type 1
  07                                        # vhid 7
  00                                        # advskew 0
  07                                        # authlen 7
  00                                        # pad1 / demote
  01                                        # advbase 1
  9125                                      # checksum
  661ed545 007d1762                         # counter high, low
  7651c15f02b840f279b06e06f4cbb0a8fac9f736  # HMAC-SHA1
`);

Deno.test("decodeCarpHeader() reads the ucarp capture field by field", () => {
  const h = decodeCarpHeader(UCARP_CAPTURE);
  assertEquals(
    { ...h, hmac: toHex(h.hmac) },
    {
      version: 2,
      type: 1,
      vhid: 7,
      advskew: 0,
      authlen: 7,
      demote: 0,
      advbase: 1,
      checksum: 0x9125,
      counter: 0x661ed545007d1762n,
      hmac: "7651c15f02b840f279b06e06f4cbb0a8fac9f736",
    },
  );
});

Deno.test("encodeCarpHeader() reproduces the three captured ucarp packets byte-exact", () => {
  const cases: Array<[string, string, number]> = [
    ["661ed545007d1762", "7651c15f02b840f279b06e06f4cbb0a8fac9f736", 0x9125],
    ["9357db4fd1ea4188", "c7256a86b0a161482a43872a9f38f6146d3ca154", 0xc3f3],
    ["6703b804a66ef252", "ddcf3e0fbd2755c43a572d477882a3405d22fe3e", 0x1999],
  ];
  for (const [counter, hmac, checksum] of cases) {
    const bytes = encodeCarpHeader({
      vhid: 7,
      advskew: 0,
      advbase: 1,
      counter: BigInt(`0x${counter}`),
      hmac: fromHex(hmac),
    });
    assertEquals(bytes.length, CARP_HEADER_LENGTH);
    assertEquals((bytes[6] << 8) | bytes[7], checksum, counter);
    if (counter === "661ed545007d1762") assertEquals(toHex(bytes), toHex(UCARP_CAPTURE));
  }
});

Deno.test("encodeCarpHeader() round-trips through decode and encode again", () => {
  const init = {
    vhid: 200,
    advskew: 100,
    advbase: 3,
    counter: 0xfffffffffffffffen,
    hmac: fromHex("00112233445566778899aabbccddeeff01020304"),
  };
  const first = encodeCarpHeader(init);
  const decoded = decodeCarpHeader(first);
  const again = encodeCarpHeader(decoded);
  assertEquals(toHex(again), toHex(first));
  // An encoder given an offset writes in place and checksums only its 36 bytes.
  const framed = encodeCarpHeader(init, new Uint8Array(20 + 36 + 4).fill(0xaa), 20);
  assertEquals(toHex(framed.subarray(20, 56)), toHex(first));
  assertEquals(framed[19], 0xaa);
  assertEquals(framed[56], 0xaa);
});

Deno.test("decodeCarpHeader() accepts trailing bytes as the kernel does", () => {
  const longer = new Uint8Array(40);
  longer.set(UCARP_CAPTURE);
  assertEquals(decodeCarpHeader(longer).vhid, 7);
});

/** Flips bytes of the capture, fixing the checksum unless told not to. */
function mutate(edit: (b: Uint8Array) => void, fixChecksum = true): Uint8Array {
  const b = UCARP_CAPTURE.slice();
  edit(b);
  if (!fixChecksum) return b;
  const h = readCarpHeader(b);
  return encodeCarpHeader(h);
}

Deno.test("decodeCarpHeader() rejects in spec order with the counter name", () => {
  const cases: Array<[string, Uint8Array, string, number]> = [
    ["empty", new Uint8Array(0), "badlen", 0],
    ["35 bytes", UCARP_CAPTURE.subarray(0, 35), "badlen", 35],
    ["checksum off by one", mutate((b) => b[7]++, false), "badsum", 6],
    ["advskew changed, checksum stale", mutate((b) => b[2] = 50, false), "badsum", 6],
    ["version 1, checksum fixed", mutate((b) => b[0] = 0x11), "badver", 0],
    ["version 3 and bad checksum: checksum first", mutate((b) => b[0] = 0x31, false), "badsum", 6],
    ["short and bad version: length first", fromHex("11 07"), "badlen", 2],
  ];
  for (const [name, bytes, reason, offset] of cases) {
    const error = assertThrows(() => decodeCarpHeader(bytes), DecodeError);
    assertEquals([error.reason, error.offset], [reason, offset], name);
  }
});

Deno.test("decodeCarpHeader() ignores type, authlen and demote, as the kernels do", () => {
  const odd = mutate((b) => {
    b[0] = 0x25; // type 5
    b[3] = 9; // authlen 9
    b[4] = 3; // OpenBSD demote byte
  });
  const h = decodeCarpHeader(odd);
  assertEquals([h.type, h.authlen, h.demote], [5, 9, 3]);
});

Deno.test("CARP group constants are 224.0.0.18 / ff02::12 and their multicast MACs", () => {
  assertEquals(formatAddress(CARP_GROUP_V4), "224.0.0.18");
  assertEquals(formatAddress(CARP_GROUP_V6), "ff02::12");
  assertEquals(formatMac(CARP_GROUP_MAC_V4), "01:00:5e:00:00:12");
  assertEquals(formatMac(CARP_GROUP_MAC_V6), "33:33:00:00:00:12");
});
