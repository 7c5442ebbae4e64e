import {
  decodeIPv4Header,
  encodeIPv4Header,
  IPV4_HEADER_LENGTH,
  ipv4Payload,
  ipv4PseudoHeaderSum,
} from "../../lib/net/ipv4.ts";
import { DecodeError, fromHex, internetChecksum, toHex } from "../../lib/bytes/mod.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

/** spec/carp.md §2.5 vector 1: a ucarp advertisement captured on the wire. */
const CAPTURED_HEADER = fromHex(`
  45          # version 4, IHL 5
  10          # TOS 0x10 (IPTOS_LOWDELAY)
  0038        # total length 56 = 20 + 36
  ed4f        # identification
  4000        # DF, fragment offset 0
  ff          # TTL 255
  70          # protocol 112 (CARP)
  a37f        # header checksum
  0a630001    # source 10.99.0.1
  e0000012    # destination 224.0.0.18
`);
const CARP_HEADER = fromHex(
  "21070007 00019125 661ed545 007d1762 7651c15f 02b840f2 79b06e06 f4cbb0a8 fac9f736",
);
const CAPTURED_PACKET = new Uint8Array([...CAPTURED_HEADER, ...CARP_HEADER]);

Deno.test("decodeIPv4Header() reads every field of the captured CARP packet", () => {
  const header = decodeIPv4Header(CAPTURED_PACKET);
  assertEquals(header, {
    headerLength: 20,
    tos: 0x10,
    totalLength: 56,
    id: 0xed4f,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 255,
    protocol: 112,
    checksum: 0xa37f,
    source: fromHex("0a630001"),
    destination: fromHex("e0000012"),
    options: new Uint8Array(0),
  });
  assertEquals(ipv4Payload(CAPTURED_PACKET, header), CARP_HEADER);
});

Deno.test("encodeIPv4Header() reproduces the captured header byte for byte", () => {
  const bytes = encodeIPv4Header({
    tos: 0x10,
    payloadLength: 36,
    id: 0xed4f,
    ttl: 255,
    protocol: 112,
    source: fromHex("0a630001"),
    destination: fromHex("e0000012"),
  });
  assertEquals(toHex(bytes), toHex(CAPTURED_HEADER));
});

Deno.test("encodeIPv4Header()/decodeIPv4Header() round-trip at an offset", () => {
  const out = new Uint8Array(8 + IPV4_HEADER_LENGTH + 4);
  const init = {
    tos: 0,
    payloadLength: 4,
    id: 1,
    dontFragment: false,
    ttl: 1,
    protocol: 240,
    source: fromHex("c0000201"),
    destination: fromHex("c0000202"),
  };
  encodeIPv4Header(init, out, 8);
  const decoded = decodeIPv4Header(out, 8);
  assertEquals([decoded.protocol, decoded.ttl, decoded.dontFragment], [240, 1, false]);
  const again = encodeIPv4Header({ ...init, id: decoded.id }, new Uint8Array(20));
  assertEquals(again, out.subarray(8, 28));
});

Deno.test("decodeIPv4Header() keeps options and skips them for the payload", () => {
  const withOptions = fromHex(`
    46 00 0020 0001 0000 40 70 0000  # IHL 6 (24 bytes), total 32, checksum filled below
    c0000201 c0000202
    94040000                         # router alert option
    deadbeef cafef00d                # 8 bytes of payload
  `);
  const sum = internetChecksum(withOptions.subarray(0, 24));
  withOptions[10] = sum >> 8;
  withOptions[11] = sum & 0xff;
  const header = decodeIPv4Header(withOptions);
  assertEquals(header.headerLength, 24);
  assertEquals(header.options, fromHex("94040000"));
  assertEquals(ipv4Payload(withOptions, header), fromHex("deadbeefcafef00d"));
});

const BAD: ReadonlyArray<readonly [string, Uint8Array, string, number]> = [
  ["shorter than 20 bytes", CAPTURED_PACKET.subarray(0, 19), "badlen", 0],
  [
    "IPv6 version nibble",
    Uint8Array.from(CAPTURED_PACKET, (b, i) => i === 0 ? 0x65 : b),
    "badver",
    0,
  ],
  ["IHL 4", Uint8Array.from(CAPTURED_PACKET, (b, i) => i === 0 ? 0x44 : b), "badlen", 0],
  ["total length past the data", CAPTURED_PACKET.subarray(0, 50), "badlen", 2],
  [
    "total length below IHL",
    Uint8Array.from(CAPTURED_PACKET, (b, i) => i === 3 ? 0x10 : b),
    "badlen",
    2,
  ],
  [
    "flipped TTL bit (checksum)",
    Uint8Array.from(CAPTURED_PACKET, (b, i) => i === 8 ? 0xfe : b),
    "badsum",
    10,
  ],
];

for (const [what, bytes, reason, offset] of BAD) {
  Deno.test(`decodeIPv4Header() rejects ${what} as ${reason}`, () => {
    const error = assertThrows(() => decodeIPv4Header(bytes), DecodeError);
    assertEquals([error.reason, error.offset], [reason, offset]);
  });
}

Deno.test("decodeIPv4Header() copies addresses by default and shares them when asked", () => {
  const packet = CAPTURED_PACKET.slice();
  const copied = decodeIPv4Header(packet);
  const shared = decodeIPv4Header(packet, 0, { share: true });
  packet[12] = 0x0b; // change the source after decoding
  assertEquals(copied.source, fromHex("0a630001"));
  assertEquals(shared.source, fromHex("0b630001"));
  assertEquals(shared.destination.buffer, packet.buffer);
});

Deno.test("decodeIPv4Header() skips the checksum test when asked", () => {
  const bad = Uint8Array.from(CAPTURED_PACKET, (b, i) => i === 8 ? 0xfe : b);
  assertEquals(decodeIPv4Header(bad, 0, { verifyChecksum: false }).ttl, 0xfe);
});

Deno.test("ipv4PseudoHeaderSum() folds source, destination, protocol and length", () => {
  // 0a63 + 0001 + e000 + 0012 + 0070 (protocol) + 0024 (length 36) = eb0a, no carry
  assertEquals(ipv4PseudoHeaderSum(fromHex("0a630001"), fromHex("e0000012"), 112, 36), 0xeb0a);
  // with carries: five 0xffff words are one's-complement zeros, leaving the protocol
  const ones = fromHex("ffffffff");
  assertEquals(ipv4PseudoHeaderSum(ones, ones, 0xff, 0xffff), 0x00ff);
});
